/**
 * Drivers by kind and name. Configuration picks them; drivers never import this module.
 */
import { ExtImageFilesystem } from './drivers/imagefs/ext';
import type { ImageFilesystem } from './drivers/imagefs/interface';
import type { MachineDriver } from './drivers/machine/interface';
import { SimMachineDriver } from './drivers/machine/sim';
import { FileStorageDriver } from './drivers/storage/file';
import type { StorageDriver } from './drivers/storage/interface';
import { NoDriverError } from './errors';

export interface Drivers {
  storage(kind: string): StorageDriver;
  machine(kind: string): MachineDriver;
  /** Image filesystem drivers, tried in order by `detect`. */
  imagefs: ImageFilesystem[];
}

export function createDrivers(o: { stateDir: string }): Drivers {
  const storage: Record<string, StorageDriver> = { file: new FileStorageDriver() };
  const machines: Record<string, MachineDriver> = { sim: new SimMachineDriver({ stateDir: `${o.stateDir}/machines` }) };
  return {
    storage(kind) {
      const d = storage[kind];
      if (!d) throw new NoDriverError('storage', kind, Object.keys(storage));
      return d;
    },
    machine(kind) {
      const d = machines[kind];
      if (!d) throw new NoDriverError('machine', kind, Object.keys(machines));
      return d;
    },
    imagefs: [new ExtImageFilesystem()],
  };
}
