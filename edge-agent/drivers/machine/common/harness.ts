/**
 * The one implementation of a MachineDriver's bookkeeping, over a MachineProtocol (see protocol.ts
 * for what it does and what a protocol must do). A driver is a subclass with a constructor that
 * hands its protocol over, plus any optional capability (identity, console) it offers.
 */
import { describeDisk, sameDisk } from '../../disk';
import {
  AlreadyAttachedError,
  BootFailedError,
  NoConsoleError,
  NoDiskError,
  PoweredOnError,
  PowerNotConfirmedError,
} from '../errors';
import type { ConsoleCapable, DiskRef, MachineDriver, MachineRef, PowerOnOutcome, PowerState } from '../interface';
import { type ConsoleMark, markConsole, readSince, waitForMarker } from './console-watch';
import { MachineCall } from './machine-call';
import { type MachineRecord, MachineRecordStore, requireDiskFile } from './machine-record';
import type { MachineProtocol, PowerSettings } from './protocol';

export interface HarnessOptions {
  /** Where the machine records live. */
  stateDir: string;
  /** Where notes go (never a credential); `[kind] …` on stdout by default. */
  log?: (line: string) => void;
}

/** A console the machine's start empties: all of it is new. */
const FROM_START: ConsoleMark = { ino: 0, size: 0 };

export class MachineHarness<C, R extends MachineRecord = MachineRecord> implements MachineDriver, ConsoleCapable {
  readonly kind: string;
  /** The per-machine records, e.g. to read lastBootAt, which status does not report. */
  readonly records: MachineRecordStore<R>;
  protected readonly log: (line: string) => void;

  constructor(
    protected readonly protocol: MachineProtocol<C, R>,
    opts: HarnessOptions,
  ) {
    this.kind = protocol.kind;
    this.records = new MachineRecordStore<R>(opts.stateDir, protocol.kind, protocol.record);
    this.log = opts.log ?? consoleNotes(protocol.kind);
  }

  get holdsDisk(): boolean {
    return this.protocol.disk !== undefined;
  }

  attach(machine: MachineRef, disk: DiskRef): Promise<void> {
    return this.locked(machine, async (call) => {
      const attached = await call.disk();
      if (attached) {
        if (sameDisk(attached, disk)) return;
        throw new AlreadyAttachedError(machine.id, describeDisk(attached), describeDisk(disk));
      }
      await requireDiskFile(machine.id, disk);
      if (this.protocol.disk) await this.protocol.disk.attach(await call.connection(), disk);
      else await call.save({ ...call.record, disk });
    });
  }

  detach(machine: MachineRef): Promise<void> {
    return this.locked(machine, async (call) => {
      if (!(await call.disk())) return;
      if (await call.isOn()) throw new PoweredOnError(machine.id, 'detached');
      if (this.protocol.disk) return this.protocol.disk.detach(await call.connection());
      const { disk: _detached, ...rest } = call.record;
      await call.save(rest as R);
    });
  }

  powerOn(machine: MachineRef): Promise<PowerOnOutcome> {
    return this.locked(machine, async (call) => {
      const s = this.protocol.settings(machine);
      if (await call.isOn()) {
        const startedAt = this.protocol.pendingBoot?.(call.record);
        if (startedAt === undefined) return { power: 'on', booted: true, bootCount: call.record.bootCount };
        // The agent restarted while this machine was booting: keep waiting for the same boot.
        return this.awaitBoot(call, s, await call.disk(), FROM_START, startedAt);
      }
      const disk = await call.disk();
      if (!disk) throw new NoDiskError(machine.id);
      // A real machine finds out only at boot that its disk vanished.
      await requireDiskFile(machine.id, disk);
      const since = s.console && !s.console.fresh ? await markConsole(s.console.file) : FROM_START;
      await call.step((c, r) => this.protocol.powerOn(c, disk, r));
      if (s.confirmOnMs !== undefined) await this.confirm(call, 'on', s.confirmOnMs);
      return this.awaitBoot(call, s, disk, since, Date.now());
    });
  }

  powerOff(machine: MachineRef): Promise<{ power: PowerState }> {
    return this.locked(machine, async (call) => {
      const s = this.protocol.settings(machine);
      if (!(await call.isOn())) return { power: 'off' };
      const until = Date.now() + s.shutdownGraceMs;
      const refused = await call.step((c, r) => this.protocol.softOff(c, r, until));
      if (refused) this.log(`machine ${machine.id}: ${refused}; forcing power off`);
      else if (await call.reaches('off', until)) return { power: 'off' };
      else this.log(await this.shutdownNote(call, s.shutdownGraceMs / 1000));
      await this.forceOff(call, s);
      return { power: 'off' };
    });
  }

  async status(machine: MachineRef): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const call = new MachineCall(machine, await this.records.read(machine), this.records, this.protocol);
    const [on, disk] = await Promise.all([call.isOn(), call.disk()]).finally(() => call.close());
    const power: PowerState = on ? 'on' : 'off';
    const { bootCount } = call.record;
    return disk ? { power, disk, bootCount } : { power, bootCount };
  }

  /**
   * What the machine printed on its console since its last power-on, from the console log its
   * settings name (`consoleLog`); NoConsoleError when they name none.
   */
  async console(machine: MachineRef): Promise<string> {
    const s = this.protocol.settings(machine);
    if (!s.console) throw new NoConsoleError(machine.id, machine.kind);
    const record = await this.records.read(machine);
    return readSince(s.console.file, record.consoleMark ?? FROM_START);
  }

  /** Runs `work` in the machine's lock, on the record as it is once the lock is held. */
  private locked<T>(machine: MachineRef, work: (call: MachineCall<C, R>) => Promise<T>): Promise<T> {
    return this.records.exclusive(machine, async () => {
      const call = new MachineCall(machine, await this.records.read(machine), this.records, this.protocol);
      try {
        return await work(call);
      } finally {
        await call.close();
      }
    });
  }

  /** Waits for the boot marker when there is a console, then counts the boot. */
  private async awaitBoot(
    call: MachineCall<C, R>,
    s: PowerSettings,
    disk: DiskRef | undefined,
    since: ConsoleMark,
    startedAt: number,
  ): Promise<PowerOnOutcome> {
    if (s.console) {
      const { file, marker, timeoutMs, reasons } = s.console;
      const stillOn = () => call.isOn();
      const outcome = await waitForMarker({ file, since, marker, timeoutMs, startedAt, stillOn, reasons });
      if (!outcome.found) {
        // A failed machine is left off, so the lifecycle can detach and roll back at once.
        await this.forceOff(call, s);
        const detail = (await this.protocol.diagnose?.(await call.connection(), call.record)) ?? '';
        throw new BootFailedError(call.machine.id, disk ? describeDisk(disk) : 'no disk', `${outcome.reason}${detail}`);
      }
    }
    const bootCount = call.record.bootCount + 1;
    const consoleMark = s.console && !s.console.fresh ? { consoleMark: since } : {};
    await call.save({ ...call.record, bootCount, lastBootAt: new Date().toISOString(), ...consoleMark });
    // A guest that printed the marker and then powered itself off has booted too.
    const power: PowerState = s.console && !(await call.isOn()) ? 'off' : 'on';
    return { power, booted: true, bootCount };
  }

  private async shutdownNote(call: MachineCall<C, R>, seconds: number): Promise<string> {
    const note = this.protocol.shutdownNote?.(call.machine, await call.connection(), seconds);
    return note ?? `machine ${call.machine.id}: no clean shutdown within ${seconds} s; forcing power off`;
  }

  private async forceOff(call: MachineCall<C, R>, s: PowerSettings): Promise<void> {
    await call.step((c, r) => this.protocol.forceOff(c, r));
    await this.confirm(call, 'off', s.confirmOffMs);
  }

  private async confirm(call: MachineCall<C, R>, wanted: PowerState, ms: number): Promise<void> {
    if (!(await call.reaches(wanted, Date.now() + ms)))
      throw new PowerNotConfirmedError(call.machine.id, wanted, ms / 1000, this.protocol.powerHint);
  }
}

/** Notes on stdout, tagged with the driver kind. */
export function consoleNotes(kind: string): (line: string) => void {
  return (line) => console.log(`[${kind}] ${line}`);
}
