/**
 * Power for a qemu machine: a running qemu process is power on. The disk is a qemu argument, so the
 * record holds it; the process (PID, start ticks, tag) is kept in the record too, so a restarted
 * agent finds a machine that is still running, and goes on waiting for a boot it started.
 */
import { promises as fs } from 'node:fs';
import { describeDisk } from '../../disk';
import type { MachineProtocol, PowerReading, PowerSettings } from '../common/protocol';
import { BootFailedError, type PowerHint } from '../errors';
import type { DiskRef, MachineRef } from '../interface';
import { qemuArgs, qemuName } from './command';
import { lastLines, readConsole } from './console';
import { QemuStuckError } from './errors';
import { isRunning, killQemu, startQemu, waitForExit } from './process';
import { qmpExecute } from './qmp';
import { type QemuSettings, qemuSettings } from './settings';
import { type MachineFiles, machineFiles, QEMU_RECORD, type QemuMachineState } from './state';

/** A guest that missed the power button (still booting, say) gets it pressed again this often. */
const PRESS_EVERY_MS = 5000;

export interface QemuCall {
  machine: MachineRef;
  files: MachineFiles;
}

export class QemuProtocol implements MachineProtocol<QemuCall, QemuMachineState> {
  readonly kind = 'qemu';
  readonly record = QEMU_RECORD;
  readonly powerHint: PowerHint = {
    who: 'The qemu process of machine',
    verb: 'reach',
    check: 'Check the agent host for a qemu process that does not exit, then power off again.',
  };

  constructor(
    private readonly stateDir: string,
    private readonly binary: string,
  ) {}

  async open(machine: MachineRef): Promise<QemuCall> {
    return { machine, files: machineFiles(this.stateDir, machine) };
  }

  settings(machine: MachineRef): PowerSettings {
    const s = lenientSettings(machine);
    const marker = s.bootMarker;
    return {
      // Each power-on starts a fresh console, so the last boot's marker is never mistaken for this one's.
      console: {
        file: machineFiles(this.stateDir, machine).console,
        marker,
        timeoutMs: s.bootTimeoutSeconds * 1000,
        fresh: true,
        reasons: {
          stopped: 'qemu exited before the console showed the boot marker',
          silent: `the console did not show /${marker.source}/ within ${s.bootTimeoutSeconds} s`,
        },
      },
      // forceOff returns once qemu exited.
      confirmOffMs: 5000,
      shutdownGraceMs: s.powerOffGraceSeconds * 1000,
    };
  }

  async power(_c: QemuCall, record: QemuMachineState): Promise<PowerReading> {
    return record.process && (await isRunning(record.process)) ? 'on' : 'off';
  }

  pendingBoot(record: QemuMachineState): number | undefined {
    const proc = record.process;
    if (!proc || (record.lastBootAt !== undefined && record.lastBootAt >= proc.startedAt)) return undefined;
    return Date.parse(proc.startedAt);
  }

  async powerOn({ machine, files }: QemuCall, disk: DiskRef, record: QemuMachineState): Promise<void> {
    const settings = qemuSettings(machine);
    await requireBootFiles(machine, disk, settings);
    const args = qemuArgs({
      machine,
      disk,
      settings,
      consolePath: files.console,
      ...(files.qmp ? { qmpPath: files.qmp } : {}),
    });
    await fs.mkdir(this.stateDir, { recursive: true });
    await fs.writeFile(files.console, '', { mode: 0o600 });
    if (files.qmp) await fs.rm(files.qmp, { force: true });
    const proc = await startQemu(this.binary, args, {
      cwd: this.stateDir,
      stderrPath: files.stderr,
      tag: qemuName(machine),
    });
    record.process = { ...proc, startedAt: new Date().toISOString() };
  }

  /** Presses the ACPI power button over QMP until the guest exits or the grace period ends. */
  async softOff({ files }: QemuCall, record: QemuMachineState, until: number): Promise<string | undefined> {
    const proc = record.process;
    if (!proc) return undefined;
    if (!files.qmp) return 'the QMP socket path is too long to press the power button';
    while (Date.now() < until) {
      const failed = await qmpExecute(files.qmp, 'system_powerdown').then(
        () => undefined,
        (err: Error) => err.message,
      );
      if (failed) return `the power button could not be pressed (${failed})`;
      if (await waitForExit(proc, Math.min(PRESS_EVERY_MS, until - Date.now()))) {
        delete record.process;
        return undefined;
      }
    }
    return undefined;
  }

  async forceOff({ machine }: QemuCall, record: QemuMachineState): Promise<void> {
    const proc = record.process;
    if (proc && !(await killQemu(proc))) throw new QemuStuckError(machine.id, proc.pid);
    delete record.process;
  }

  /** What qemu said on stderr and the last console lines. */
  async diagnose({ files }: QemuCall): Promise<string> {
    const qemuSaid = lastLines(await readConsole(files.stderr), 5);
    const consoleTail = lastLines(await readConsole(files.console), 15);
    return `${qemuSaid ? `; qemu said: ${qemuSaid}` : ''}${consoleTail ? `; last console lines:\n${consoleTail}` : '; the console stayed empty'}`;
  }
}

/** A kernel or initrd named in settings must be a file on the agent host. */
async function requireBootFiles(machine: MachineRef, disk: DiskRef, settings: QemuSettings): Promise<void> {
  for (const [key, file] of [
    ['kernel', settings.kernel],
    ['initrd', settings.initrd],
  ] as const) {
    if (!file) continue;
    const isFile = await fs.stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isFile)
      throw new BootFailedError(
        machine.id,
        describeDisk(disk),
        `settings.${key} ${file} is not a file on the agent host`,
      );
  }
}

/**
 * Bad settings must not keep a machine from powering off, so they fall back to the defaults here;
 * powerOn reads them strictly (QemuConfigError) before it starts anything.
 */
function lenientSettings(machine: MachineRef): QemuSettings {
  try {
    return qemuSettings(machine);
  } catch {
    return qemuSettings({ ...machine, settings: {} });
  }
}
