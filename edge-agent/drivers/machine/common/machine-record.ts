/**
 * What a driver of a machine it cannot ask about its disk remembers: the disk it attached (a blade
 * reaches it over the fabric, so the BMC knows nothing of it) and how often the machine booted.
 * One JSON file per machine under the driver's state directory, written atomically, with calls for
 * one machine queued so their read-modify-write never interleaves. The Redfish and libvirt drivers
 * share it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeStateFile } from '../../../state-file';
import { describeDisk, sameDisk } from '../../disk';
import { AlreadyAttachedError, DiskNotFoundError, MachineStateError, PoweredOnError } from '../errors';
import type { DiskRef, MachineRef } from '../interface';

export interface MachineRecord {
  disk?: DiskRef;
  bootCount: number;
  /** ISO time of the last successful boot. */
  lastBootAt?: string;
}

/**
 * `R` is what a driver keeps per machine (MachineRecord by default); `fresh` is a machine never seen
 * and `valid` checks a parsed file before it is trusted.
 */
export class MachineRecordStore<R extends { bootCount: number; disk?: DiskRef } = MachineRecord> {
  private readonly queues = new Map<string, Promise<unknown>>();

  /** `prefix` keeps the files of different drivers sharing a directory apart, e.g. `ipmi`. */
  constructor(
    readonly dir: string,
    private readonly prefix: string,
    private readonly shape: { fresh: () => R; valid: (r: R) => boolean } = {
      fresh: () => ({ bootCount: 0 }) as R,
      valid: (r) => typeof r.bootCount === 'number',
    },
  ) {}

  pathOf(machine: MachineRef): string {
    // encodeURIComponent turns any `/` into %2F, so the id can never name a file outside dir.
    return path.join(this.dir, `${this.prefix}-${encodeURIComponent(machine.id)}.json`);
  }

  async read(machine: MachineRef): Promise<R> {
    const file = this.pathOf(machine);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.shape.fresh();
      throw new MachineStateError(machine.id, file, { cause: err });
    }
    try {
      const record = JSON.parse(text) as R;
      if (!this.shape.valid(record)) throw new Error('unexpected shape');
      return record;
    } catch (err) {
      throw new MachineStateError(machine.id, file, { cause: err });
    }
  }

  write(machine: MachineRef, record: R): Promise<void> {
    return writeStateFile(this.pathOf(machine), record);
  }

  /**
   * Records the disk a machine reaches over the fabric (BMC-driven machines: the BMC knows nothing of
   * it). Idempotent for the same disk; AlreadyAttachedError for another.
   */
  attachDisk(machine: MachineRef, disk: DiskRef): Promise<void> {
    return this.exclusive(machine, async () => {
      const record = await this.read(machine);
      if (record.disk) {
        if (sameDisk(record.disk, disk)) return;
        throw new AlreadyAttachedError(machine.id, describeDisk(record.disk), describeDisk(disk));
      }
      await requireDiskFile(machine.id, disk);
      await this.write(machine, { ...record, disk });
    });
  }

  /** Forgets the disk; refused (PoweredOnError) while `isOn` says the machine runs. Idempotent. */
  detachDisk(machine: MachineRef, isOn: () => Promise<boolean>): Promise<void> {
    return this.exclusive(machine, async () => {
      const record = await this.read(machine);
      if (!record.disk) return;
      if (await isOn()) throw new PoweredOnError(machine.id, 'detached');
      const { disk: _detached, ...rest } = record;
      await this.write(machine, rest as R);
    });
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
 * trust, since storage granted the machine's initiator access when it exported it.
 */
export async function requireDiskFile(machineId: string, disk: DiskRef): Promise<void> {
  if (disk.kind !== 'file') return;
  const st = await fs.stat(disk.path).catch((err) => {
    throw new DiskNotFoundError(machineId, disk.path, { cause: err });
  });
  if (!st.isFile()) throw new DiskNotFoundError(machineId, disk.path);
}
