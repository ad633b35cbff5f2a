/**
 * A machine protocol is what one kind of machine does its own way: power and boot over its wire
 * (ipmitool, Redfish, virsh, a qemu process, SNMP, WS-Man, vim25), and where its disk lives.
 * `MachineHarness` (harness.ts) turns a protocol into a MachineDriver and does, once for every kind,
 * the bookkeeping around it. A new driver is a protocol and a one-constructor subclass of the harness.
 *
 * Glossary
 * - connection (`C`): what `open` makes of a machine for one driver call: a checked BMC address with
 *   its credentials, a located Redfish system, a virsh target. Opened at most once per call.
 * - record (`R`): the JSON the harness keeps per machine in `<stateDir>/<kind>-<id>.json`: the
 *   attached disk (unless the machine holds it, see `disk`), bootCount, lastBootAt, and any field
 *   the protocol adds (qemu's process, the simulation's power).
 * - reading: power as the machine reports it. `changing` (PoweringOn, PoweringOff, Paused) still
 *   holds the disk, so it counts as on, but it ends no wait for on or off.
 * - boot: a power-on that reached the operating system: the boot marker showed on the console log,
 *   or, with no console log, the machine reported power on.
 *
 * What the harness does, so a protocol never does it
 * - One call at a time per machine. Every method below runs inside that machine's lock.
 * - Idempotent skips: power on while on and power off while off return at once; attaching the
 *   attached disk again is done, another disk is AlreadyAttachedError; detach with no disk is done.
 * - Preconditions: a file disk must exist at attach and at power on (DiskNotFoundError), power on
 *   needs a disk (NoDiskError), detach needs power off (PoweredOnError).
 * - Waiting for power (PowerNotConfirmedError, worded with `powerHint`); marking the console before
 *   power on and waiting for the boot marker; forcing the machine off after a boot that failed
 *   (BootFailedError), so the lifecycle can detach and roll back; counting boots; and power off as a
 *   clean shutdown for the grace period, then a forced one, with a note in the log.
 *
 * Rules for a protocol
 * - Methods are called only when their precondition holds; they throw the wire's own typed errors
 *   (the driver's errors.ts, on AgentError) and never write metadata.
 * - `powerOn`, `softOff` and `forceOff` may change the protocol's own fields of `record` in place;
 *   the harness saves the record after a call that changed it. Nothing else writes the record.
 */
import type { PowerHint } from '../errors';
import type { DiskRef, MachineRef, PowerState } from '../interface';
import type { MachineRecord, RecordShape } from './machine-record';

export type PowerReading = PowerState | 'changing';

/** The serial console a boot is detected on. */
export interface BootConsole {
  /** The log on the agent's host (a console server's file, qemu's chardev). */
  file: string;
  /** Printed once the operating system is up. */
  marker: RegExp;
  timeoutMs: number;
  /** The machine's start empties the log (qemu, libvirt), so all of it is this boot's output. */
  fresh?: boolean;
  /** Why a boot failed, in this machine's words, instead of the general ones. */
  reasons?: { stopped: string; silent: string };
}

/** How one machine boots and stops, read from its settings (`powerSettings` reads the usual keys). */
export interface PowerSettings {
  /** Without a console, a boot counts once the machine reports power on. */
  console?: BootConsole;
  /** How long the machine gets to report on after `powerOn`; none when powerOn returns only once it runs. */
  confirmOnMs?: number;
  /** How long it gets to report off after `forceOff`. */
  confirmOffMs: number;
  /** How long the operating system gets to shut down after `softOff` before the machine is forced off. */
  shutdownGraceMs: number;
}

/** For a machine that holds its disk itself (a libvirt domain, a vSphere VM). */
export interface DiskSlot<C> {
  /** The disk the machine holds now. */
  attached(c: C): Promise<DiskRef | undefined>;
  /** Gives the machine `disk`. Precondition: it holds none; a file disk exists. */
  attach(c: C, disk: DiskRef): Promise<void>;
  /** Takes the disk away. Precondition: it holds one; power is off. */
  detach(c: C): Promise<void>;
}

export interface MachineProtocol<C, R extends MachineRecord = MachineRecord> {
  /** The machine kind, e.g. `ipmi`; it names the record files too. */
  readonly kind: string;
  /** Who reports power and what to check, for PowerNotConfirmedError. */
  readonly powerHint: PowerHint;
  /** The record's shape when the protocol adds fields; `{ bootCount: 0 }` otherwise. */
  readonly record?: RecordShape<R>;
  /** Without it the record holds the disk (a blade on the fabric, a qemu argument). */
  readonly disk?: DiskSlot<C>;

  /** Checks the machine's settings and credentials and reaches the machine. Throws bad settings. */
  open(machine: MachineRef): Promise<C>;
  /** Ends what `open` began (a vSphere session's Logout), once the driver call that opened it is done. */
  close?(c: C): Promise<void>;
  /** Read first in power on and power off, so bad settings fail before anything happens. */
  settings(machine: MachineRef): PowerSettings;
  /** The power state now. */
  power(c: C, record: R): Promise<PowerReading>;
  /** Starts the machine from `disk`. Precondition: off; a file disk exists. May return before it is on. */
  powerOn(c: C, disk: DiskRef, record: R): Promise<void>;
  /**
   * Asks the operating system to shut down (ACPI power button, soft off). Precondition: on. May
   * return before it is off; `until` ends the grace period, for a protocol that asks again. Resolves
   * to the reason when the machine cannot be asked, and it is forced off at once.
   */
  softOff(c: C, record: R, until: number): Promise<string | undefined>;
  /** Cuts the power. Precondition: on, or a boot that failed. */
  forceOff(c: C, record: R): Promise<void>;

  /** The start (ms) of a boot whose marker was not seen yet, found on at power on: the wait resumes. */
  pendingBoot?(record: R): number | undefined;
  /** Appended to a BootFailedError's reason after the forced off (what the machine said). */
  diagnose?(c: C, record: R): Promise<string>;
  /** The note when the grace period ran out; `no clean shutdown within N s; forcing power off` by default. */
  shutdownNote?(machine: MachineRef, c: C, seconds: number): string;
}
