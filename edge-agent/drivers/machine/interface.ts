/**
 * Machine drivers power machines on and off and tell who they are.
 *
 * Glossary
 * - machine: a physical or virtual computer known to the control plane, with `identity` (macs,
 *   serial, uuid, initiatorName) and driver `settings`.
 * - disk: the clone image the machine boots from, given as a path the machine can reach.
 * - boot: a power-on that reached the operating system; `bootCount` counts them.
 *
 * Drivers return outcomes; they never write metadata. The lifecycle guarantees the preconditions
 * below (a disk is attached before power on, a machine is off before detach).
 *
 * Optional capabilities are small interfaces of their own (ConsoleCapable, IdentityCapable): a
 * caller discovers them with `hasConsole` / `hasIdentity` instead of assuming them.
 * `common/harness.ts` turns a machine protocol (power and boot on one wire) into a MachineDriver.
 */

/**
 * A machine as the control plane hands it over in a task: its shape is the task contract's
 * (statemachines/tasks.ts). A driver gets it from tasks/machines.ts with `credentials` resolved from
 * their `secret://` references to the values (BMC password…), in memory for this call only: never
 * logged, never on a command line, never kept.
 */
export type { MachineRef } from '../../../statemachines/tasks';

import type { MachineRef } from '../../../statemachines/tasks';

export type { DiskRef } from '../disk';

import type { DiskRef } from '../disk';

export type PowerState = 'on' | 'off';

export interface PowerOnOutcome {
  power: PowerState;
  /** True when the machine reached the operating system (a clean clone becomes operational). */
  booted: boolean;
  bootCount: number;
}

export interface MachineDriver {
  readonly kind: string;
  /**
   * True when the machine holds the attached disk itself (a libvirt domain, a vSphere VM); false when
   * the agent keeps it for the machine to boot (a BMC's blade on a LUN, a qemu process). The API fixes
   * the settings of the first from attach on, of the second from power on (statemachines/kinds.ts `holdsDisk`).
   */
  readonly holdsDisk: boolean;
  /** Make `disk` reachable by the machine. Idempotent for the same disk; AlreadyAttachedError for another. */
  attach(machine: MachineRef, disk: DiskRef): Promise<void>;
  /** Make the disk unreachable. Precondition: power off (PoweredOnError). Idempotent. */
  detach(machine: MachineRef): Promise<void>;
  /** Power on from the attached disk. Precondition: a disk is attached (NoDiskError). Idempotent when on. */
  powerOn(machine: MachineRef): Promise<PowerOnOutcome>;
  /** Power off. Idempotent when off. */
  powerOff(machine: MachineRef): Promise<{ power: PowerState }>;
  status(machine: MachineRef): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }>;
}

/** A machine driver that can show what a machine printed on its serial console. */
export interface ConsoleCapable {
  /** The serial console text of the current or last power-on ('' when the machine never started). */
  console(machine: MachineRef): Promise<string>;
}

/** The identity a machine's management controller reports, for discovery and for checking a record. */
export interface MachineIdentity {
  /** System UUID/GUID, lower case with dashes. */
  uuid?: string;
  /** Board or system serial number. */
  serial?: string;
  /** MAC addresses, normalized (see common/identity normalizeMac). */
  macs?: string[];
}

/** A machine driver that can ask the machine who it is. */
export interface IdentityCapable {
  /** What the machine's controller reports now; fields it does not know are left out. */
  identity(machine: MachineRef): Promise<MachineIdentity>;
}

export function hasConsole<D extends object>(driver: D): driver is D & ConsoleCapable {
  return typeof (driver as Partial<ConsoleCapable>).console === 'function';
}

export function hasIdentity<D extends object>(driver: D): driver is D & IdentityCapable {
  return typeof (driver as Partial<IdentityCapable>).identity === 'function';
}
