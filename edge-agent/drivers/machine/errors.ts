/**
 * Typed failures every machine driver shares. Each is an AgentError: a snake_case `code` (the Step
 * Functions error name), a message that says what to do, and the data a caller needs. A driver's own
 * failures sit in its folder's errors.ts, on the same base.
 */
import { AgentError } from '../../errors';

export class DiskNotFoundError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly diskPath: string,
    options?: { cause?: unknown },
  ) {
    super(
      'disk_not_found',
      `Machine ${machineId} cannot use disk ${diskPath}: no image file is there. Check the clone exists before attaching or powering on.`,
      options,
    );
  }
}

export class AlreadyAttachedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly attachedPath: string,
    readonly requestedPath: string,
  ) {
    super(
      'already_attached',
      `Machine ${machineId} already has disk ${attachedPath} attached, so ${requestedPath} cannot be attached. Power it off and detach the current disk first.`,
    );
  }
}

export class PoweredOnError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly operation: string,
  ) {
    super('powered_on', `Machine ${machineId} is powered on, so its disk cannot be ${operation}. Power it off first.`);
  }
}

export class NoDiskError extends AgentError {
  constructor(readonly machineId: string) {
    super('no_disk', `Machine ${machineId} has no disk attached, so it cannot boot. Attach a clone first.`);
  }
}

export class BootFailedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly diskPath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'boot_failed',
      `Machine ${machineId} did not boot from ${diskPath}: ${reason}. Check the clone's customization, or roll back to a clean clone.`,
      options,
    );
  }
}

export class MachineStateError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly statePath: string,
    options?: { cause?: unknown },
  ) {
    super(
      'machine_state_unreadable',
      `The saved state of machine ${machineId} at ${statePath} cannot be read. Check the file, or delete it to reset the machine to off with no disk.`,
      options,
    );
  }
}

/** How a driver words a power state it waited for in vain: who should have reported it, and what to check. */
export interface PowerHint {
  /** Put before the machine id; `The BMC of machine` unless given. */
  who?: string;
  /** `report` (a controller that is asked, the default) or `reach` (a machine that is watched). */
  verb?: 'report' | 'reach';
  /** What the operator should look at, as a sentence. */
  check: string;
}

export class PowerNotConfirmedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly wanted: 'on' | 'off',
    readonly waitedSeconds: number,
    hint: PowerHint,
  ) {
    super(
      'power_not_confirmed',
      `${hint.who ?? 'The BMC of machine'} ${machineId} did not ${hint.verb ?? 'report'} power ${wanted} within ${waitedSeconds} s. ${hint.check}`,
    );
  }
}

/** A machine setting the driver cannot use. `fix` names the driver's settings, e.g. `the machine's IPMI settings (host, …)`. */
export class MachineSettingsError extends AgentError {
  constructor(
    readonly machineId: string,
    /** Where the bad value is, e.g. `settings.host`. */
    readonly key: string,
    readonly problem: string,
    fix: string,
  ) {
    super('invalid_settings', `Machine ${machineId}: ${key} ${problem}. Fix ${fix} and try again.`);
  }
}

/** The machine did not pass its health check in time: the scenario puts its old clone back. */
export class UnhealthyError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly detail: string,
  ) {
    super('unhealthy', `Machine ${machineId} failed its health check: ${detail}.`);
  }
}

/** A console health check on a machine whose driver shows no console. */
export class NoConsoleError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly kind: string,
  ) {
    super(
      'no_console',
      `Machine ${machineId} is of kind ${kind}, whose driver shows no serial console; use a tcp or http health check.`,
    );
  }
}
