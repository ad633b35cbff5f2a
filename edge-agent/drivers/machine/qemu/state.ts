/** What the agent remembers about each qemu machine, one JSON file per machine under the state directory. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeStateFile } from '../../../state-file';
import { MachineStateError } from '../errors';
import type { DiskRef, MachineRef } from '../interface';
import type { QemuProcess } from './process';
import { MAX_SOCKET_PATH_BYTES } from './qmp';

export interface QemuMachineState {
  disk?: DiskRef;
  bootCount: number;
  /** ISO time of the last successful boot. */
  lastBootAt?: string;
  /** The qemu process of the current power-on; the machine is on while it runs. */
  process?: QemuProcess & {
    startedAt: string;
    /** False until the console showed the boot marker (an agent restart mid-boot resumes waiting). */
    booted: boolean;
  };
}

export interface MachineFiles {
  state: string;
  console: string;
  stderr: string;
  qmp?: string;
}

/** Per-machine file names; encodeURIComponent keeps any id (even with `/`) inside the state directory. */
export function machineFiles(stateDir: string, machine: MachineRef): MachineFiles {
  const base = path.join(stateDir, `qemu-${encodeURIComponent(machine.id)}`);
  // Socket paths are short-limited, so the socket is named by a hash of the id.
  const qmp = path.resolve(stateDir, `qmp-${createHash('sha256').update(machine.id).digest('hex').slice(0, 16)}.sock`);
  return {
    state: `${base}.json`,
    console: `${base}.console.log`,
    stderr: `${base}.stderr.log`,
    ...(Buffer.byteLength(qmp) <= MAX_SOCKET_PATH_BYTES ? { qmp } : {}),
  };
}

export async function readMachineState(machine: MachineRef, file: string): Promise<QemuMachineState> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { bootCount: 0 };
    throw new MachineStateError(machine.id, file, { cause: err });
  }
  try {
    const state = JSON.parse(text) as QemuMachineState;
    if (typeof state.bootCount !== 'number') throw new Error('bootCount is missing');
    if (state.process && (typeof state.process.pid !== 'number' || typeof state.process.startTicks !== 'string')) {
      throw new Error('process has no pid or startTicks');
    }
    return state;
  } catch (err) {
    throw new MachineStateError(machine.id, file, { cause: err });
  }
}

/** Replaces the state file atomically (write a temporary file, fsync, rename). */
export function writeMachineState(file: string, state: QemuMachineState): Promise<void> {
  return writeStateFile(file, state);
}
