/** Typed failures of machine drivers. Each carries a snake_case `code` and the data a caller needs. */

export class MachineError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class DiskNotFoundError extends MachineError {
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

export class AlreadyAttachedError extends MachineError {
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

export class PoweredOnError extends MachineError {
  constructor(
    readonly machineId: string,
    readonly operation: string,
  ) {
    super('powered_on', `Machine ${machineId} is powered on, so its disk cannot be ${operation}. Power it off first.`);
  }
}

export class NoDiskError extends MachineError {
  constructor(readonly machineId: string) {
    super('no_disk', `Machine ${machineId} has no disk attached, so it cannot boot. Attach a clone first.`);
  }
}

export class BootFailedError extends MachineError {
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

export class MachineStateError extends MachineError {
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
