/**
 * Virtual machines run by qemu (TCG), one process per machine. The process keeps running when the
 * agent restarts; its PID, the attached disk and the boot count are kept in `<stateDir>/qemu-<id>.json`
 * and the serial console in `<stateDir>/qemu-<id>.console.log`. Settings: see settings.ts.
 */
import { MachineHarness } from '../common/harness';
import type { MachineRef } from '../interface';
import { type QemuCall, QemuProtocol } from './protocol';
import { type MachineFiles, machineFiles, type QemuMachineState } from './state';

export interface QemuDriverOptions {
  stateDir: string;
  /** `qemu-system-x86_64` from PATH by default. */
  qemuBinary?: string | undefined;
  /** Where notes go (a guest that ignored the power button). */
  log?: (line: string) => void;
}

/** Its console (the harness's `console`) is this power-on's: qemu starts the log afresh at each start. */
export class QemuMachineDriver extends MachineHarness<QemuCall, QemuMachineState> {
  constructor(opts: QemuDriverOptions) {
    super(new QemuProtocol(opts.stateDir, opts.qemuBinary ?? 'qemu-system-x86_64'), opts);
  }

  files(machine: MachineRef): MachineFiles {
    return machineFiles(this.records.dir, machine);
  }
}
