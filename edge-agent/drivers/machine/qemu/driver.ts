import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk, sameDisk } from '../../disk';
import { AlreadyAttachedError, BootFailedError, DiskNotFoundError, NoDiskError, PoweredOnError } from '../errors';
import type { ConsoleCapable, DiskRef, MachineDriver, MachineRef, PowerOnOutcome, PowerState } from '../interface';
import { qemuArgs, qemuName } from './command';
import { ConsoleWatcher, lastLines, readConsole } from './console';
import { QemuStuckError } from './errors';
import { isRunning, killQemu, startQemu, waitForExit } from './process';
import { qmpExecute } from './qmp';
import { DEFAULT_POWER_OFF_GRACE_SECONDS, type QemuSettings, qemuSettings } from './settings';
import { type MachineFiles, machineFiles, type QemuMachineState, readMachineState, writeMachineState } from './state';

/** A guest that missed the power button (still booting, say) gets it pressed again this often. */
const PRESS_EVERY_MS = 5000;

/**
 * Virtual machines run by qemu (TCG), one process per machine. The process keeps running when the
 * agent restarts; its PID, the attached disk and the boot count are kept in `<stateDir>/qemu-<id>.json`
 * and the serial console in `<stateDir>/qemu-<id>.console.log`.
 */
export class QemuMachineDriver implements MachineDriver, ConsoleCapable {
  readonly kind = 'qemu';
  private readonly stateDir: string;
  private readonly qemuBinary: string;
  /** Per-machine queue so concurrent calls for one machine never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(opts: { stateDir: string; qemuBinary?: string }) {
    this.stateDir = opts.stateDir;
    this.qemuBinary = opts.qemuBinary ?? 'qemu-system-x86_64';
  }

  files(machine: MachineRef): MachineFiles {
    return machineFiles(this.stateDir, machine);
  }

  readState(machine: MachineRef): Promise<QemuMachineState> {
    return readMachineState(machine, this.files(machine).state);
  }

  attach(machine: MachineRef, disk: DiskRef): Promise<void> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.disk) {
        if (sameDisk(state.disk, disk)) return;
        throw new AlreadyAttachedError(machine.id, describeDisk(state.disk), describeDisk(disk));
      }
      await requireDiskFile(machine, disk);
      await writeMachineState(this.files(machine).state, { ...state, disk });
    });
  }

  detach(machine: MachineRef): Promise<void> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (await poweredOn(state)) throw new PoweredOnError(machine.id, 'detached');
      if (!state.disk && !state.process) return;
      const { disk: _disk, process: _gone, ...rest } = state;
      await writeMachineState(this.files(machine).state, rest);
    });
  }

  powerOn(machine: MachineRef): Promise<PowerOnOutcome> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.process && (await isRunning(state.process))) {
        if (state.process.booted) return { power: 'on', booted: true, bootCount: state.bootCount };
        // The agent restarted while this machine was booting: keep waiting for the same boot.
        return this.awaitBoot(machine, state, qemuSettings(machine));
      }
      if (!state.disk) throw new NoDiskError(machine.id);
      const settings = qemuSettings(machine);
      await requireDiskFile(machine, state.disk);
      for (const [key, file] of [
        ['kernel', settings.kernel],
        ['initrd', settings.initrd],
      ] as const) {
        if (
          file &&
          !(await fs.stat(file).then(
            (s) => s.isFile(),
            () => false,
          ))
        ) {
          throw new BootFailedError(
            machine.id,
            describeDisk(state.disk),
            `settings.${key} ${file} is not a file on the agent host`,
          );
        }
      }
      const files = this.files(machine);
      const args = qemuArgs({
        machine,
        disk: state.disk,
        settings,
        consolePath: files.console,
        ...(files.qmp ? { qmpPath: files.qmp } : {}),
      });
      await fs.mkdir(this.stateDir, { recursive: true });
      // Each power-on starts a fresh console, so the last boot's marker is never mistaken for this one's.
      await fs.writeFile(files.console, '', { mode: 0o600 });
      if (files.qmp) await fs.rm(files.qmp, { force: true });
      const proc = await startQemu(this.qemuBinary, args, {
        cwd: this.stateDir,
        stderrPath: files.stderr,
        tag: qemuName(machine),
      });
      const starting: QemuMachineState = {
        ...state,
        process: { ...proc, startedAt: new Date().toISOString(), booted: false },
      };
      await writeMachineState(files.state, starting);
      return this.awaitBoot(machine, starting, settings);
    });
  }

  powerOff(machine: MachineRef): Promise<{ power: PowerState }> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      const proc = state.process;
      if (!proc) return { power: 'off' };
      if (await isRunning(proc)) {
        await this.pressPowerButton(machine, proc);
        if (!(await killQemu(proc))) throw new QemuStuckError(machine.id, proc.pid);
      }
      await writeMachineState(this.files(machine).state, withoutProcess(state));
      return { power: 'off' };
    });
  }

  async status(machine: MachineRef): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const state = await this.readState(machine);
    const power: PowerState = (await poweredOn(state)) ? 'on' : 'off';
    return state.disk ? { power, disk: state.disk, bootCount: state.bootCount } : { power, bootCount: state.bootCount };
  }

  console(machine: MachineRef): Promise<string> {
    return readConsole(this.files(machine).console);
  }

  /** Waits for the boot marker; a guest that printed it and then powered itself off has booted too. */
  private async awaitBoot(
    machine: MachineRef,
    state: QemuMachineState,
    settings: QemuSettings,
  ): Promise<PowerOnOutcome> {
    const proc = state.process!;
    const files = this.files(machine);
    const watcher = new ConsoleWatcher(files.console, settings.bootMarker);
    const deadline = Date.parse(proc.startedAt) + settings.bootTimeoutSeconds * 1000;
    let failure: string | undefined;
    for (;;) {
      const alive = await isRunning(proc);
      if (await watcher.seen()) break;
      if (!alive) failure = 'qemu exited before the console showed the boot marker';
      else if (Date.now() >= deadline)
        failure = `the console did not show /${settings.bootMarker.source}/ within ${settings.bootTimeoutSeconds} s`;
      if (failure) break;
      await sleep(250);
    }
    if (failure) {
      // A failed machine is left off, so the lifecycle can detach and roll back at once.
      await killQemu(proc);
      await writeMachineState(files.state, withoutProcess(state));
      throw new BootFailedError(
        machine.id,
        state.disk ? describeDisk(state.disk) : 'no disk',
        `${failure}${await diagnostics(files)}`,
      );
    }
    const power: PowerState = (await isRunning(proc)) ? 'on' : 'off';
    const booted: QemuMachineState = {
      ...state,
      bootCount: state.bootCount + 1,
      lastBootAt: new Date().toISOString(),
      process: { ...proc, booted: true },
    };
    await writeMachineState(files.state, power === 'on' ? booted : withoutProcess(booted));
    return { power, booted: true, bootCount: booted.bootCount };
  }

  /** Asks the guest to shut down (ACPI power button over QMP) and waits up to the grace period. */
  private async pressPowerButton(machine: MachineRef, proc: NonNullable<QemuMachineState['process']>): Promise<void> {
    const qmp = this.files(machine).qmp;
    if (!qmp) return;
    const deadline = Date.now() + graceSeconds(machine) * 1000;
    while (Date.now() < deadline) {
      const pressed = await qmpExecute(qmp, 'system_powerdown').then(
        () => true,
        () => false,
      );
      if (!pressed) return;
      if (await waitForExit(proc, Math.min(PRESS_EVERY_MS, deadline - Date.now()))) return;
    }
  }

  private exclusive<T>(machine: MachineRef, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(machine.id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(machine.id, settled);
    void settled.then(() => {
      if (this.queues.get(machine.id) === settled) this.queues.delete(machine.id);
    });
    return next;
  }
}

async function poweredOn(state: QemuMachineState): Promise<boolean> {
  return state.process !== undefined && (await isRunning(state.process));
}

function withoutProcess(state: QemuMachineState): QemuMachineState {
  const { process: _gone, ...rest } = state;
  return rest;
}

/** Bad settings must not keep a machine from powering off, so they fall back to the default grace. */
function graceSeconds(machine: MachineRef): number {
  try {
    return qemuSettings(machine).powerOffGraceSeconds;
  } catch {
    return DEFAULT_POWER_OFF_GRACE_SECONDS;
  }
}

/** A file disk must exist; an iSCSI LUN shows whether it is reachable only when qemu logs in. */
async function requireDiskFile(machine: MachineRef, disk: DiskRef): Promise<void> {
  if (disk.kind !== 'file') return;
  const st = await fs.stat(disk.path).catch((err) => {
    throw new DiskNotFoundError(machine.id, disk.path, { cause: err });
  });
  if (!st.isFile()) throw new DiskNotFoundError(machine.id, disk.path);
}

async function diagnostics(files: MachineFiles): Promise<string> {
  const qemuSaid = lastLines(await readConsole(files.stderr), 5);
  const consoleTail = lastLines(await readConsole(files.console), 15);
  return `${qemuSaid ? `; qemu said: ${qemuSaid}` : ''}${consoleTail ? `; last console lines:\n${consoleTail}` : '; the console stayed empty'}`;
}
