/** What the agent remembers about each qemu machine, and where its files are under the state directory. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { MachineRecord, RecordShape } from '../common/machine-record';
import type { MachineRef } from '../interface';
import type { QemuProcess } from './process';
import { MAX_SOCKET_PATH_BYTES } from './qmp';

export interface QemuMachineState extends MachineRecord {
  /** The qemu process of the current or last power-on; the machine is on while it runs. */
  process?: QemuProcess & {
    /** ISO time of the start; a boot is still pending until lastBootAt passes it. */
    startedAt: string;
  };
}

export const QEMU_RECORD: RecordShape<QemuMachineState> = {
  fresh: () => ({ bootCount: 0 }),
  valid: (s) =>
    typeof s.bootCount === 'number' &&
    (s.process === undefined || (typeof s.process.pid === 'number' && typeof s.process.startTicks === 'string')),
};

export interface MachineFiles {
  console: string;
  stderr: string;
  qmp?: string;
}

/** Per-machine file names beside `qemu-<id>.json`; encodeURIComponent keeps any id inside the state directory. */
export function machineFiles(stateDir: string, machine: MachineRef): MachineFiles {
  const base = path.join(stateDir, `qemu-${encodeURIComponent(machine.id)}`);
  // Socket paths are short-limited, so the socket is named by a hash of the id.
  const qmp = path.resolve(stateDir, `qmp-${createHash('sha256').update(machine.id).digest('hex').slice(0, 16)}.sock`);
  return {
    console: `${base}.console.log`,
    stderr: `${base}.stderr.log`,
    ...(Buffer.byteLength(qmp) <= MAX_SOCKET_PATH_BYTES ? { qmp } : {}),
  };
}
