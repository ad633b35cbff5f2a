/**
 * What the agent remembers per machine, beside what the machine itself can be asked: the disk it
 * attached (a blade reaches it over the fabric, so its BMC knows nothing of it), how often the
 * machine booted, and any field a protocol keeps (qemu's process, the simulation's power). One JSON
 * state file per machine, `<dir>/<prefix>-<id>.json`, with calls for one machine queued so their
 * read-modify-write never interleaves. The harness is its only user.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readStateFile, writeStateFile } from '../../../state-file';
import { DiskNotFoundError, MachineStateError } from '../errors';
import type { DiskRef, MachineRef } from '../interface';

export interface MachineRecord {
  /** The attached disk, unless the machine holds it itself (a libvirt domain). */
  disk?: DiskRef;
  bootCount: number;
  /** ISO time of the last successful boot. */
  lastBootAt?: string;
  /** Where the console log stood at the last power-on: what the machine printed since is this boot's. */
  consoleMark?: { ino: number; size: number };
}

/** A machine never seen, and the check a parsed file must pass before it is trusted. */
export interface RecordShape<R> {
  fresh(): R;
  valid(record: R): boolean;
}

const PLAIN: RecordShape<MachineRecord> = {
  fresh: () => ({ bootCount: 0 }),
  valid: (r) => typeof r.bootCount === 'number',
};

export class MachineRecordStore<R extends MachineRecord = MachineRecord> {
  private readonly queues = new Map<string, Promise<unknown>>();

  /** `prefix` keeps the files of different drivers sharing a directory apart, e.g. `ipmi`. */
  constructor(
    readonly dir: string,
    private readonly prefix: string,
    private readonly shape: RecordShape<R> = PLAIN as unknown as RecordShape<R>,
  ) {}

  pathOf(machine: MachineRef): string {
    // encodeURIComponent turns any `/` into %2F, so the id can never name a file outside dir.
    return path.join(this.dir, `${this.prefix}-${encodeURIComponent(machine.id)}.json`);
  }

  async read(machine: MachineRef): Promise<R> {
    const file = this.pathOf(machine);
    let record: R | undefined;
    try {
      record = await readStateFile<R>(file);
    } catch (err) {
      throw new MachineStateError(machine.id, file, { cause: err });
    }
    if (record === undefined) return this.shape.fresh();
    if (record === null || typeof record !== 'object' || !this.shape.valid(record))
      throw new MachineStateError(machine.id, file, { cause: new Error('unexpected shape') });
    return record;
  }

  write(machine: MachineRef, record: R): Promise<void> {
    return writeStateFile(this.pathOf(machine), record);
  }

  /** Runs `work` after every earlier call for the same machine has settled. */
  exclusive<T>(machine: MachineRef, work: () => Promise<T>): Promise<T> {
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

/**
 * A file disk must exist on the agent's host (the NAS path the machine mounts); a LUN is taken on
 * trust, since storage granted the machine's initiator access when it exported it, and the machine
 * finds out at boot whether it can log in.
 */
export async function requireDiskFile(machineId: string, disk: DiskRef): Promise<void> {
  if (disk.kind !== 'file') return;
  const st = await fs.stat(disk.path).catch((err) => {
    throw new DiskNotFoundError(machineId, disk.path, { cause: err });
  });
  if (!st.isFile()) throw new DiskNotFoundError(machineId, disk.path);
}
