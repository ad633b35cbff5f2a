/**
 * Drivers by kind: one per kind of statemachines/kinds.ts, which the tables below must cover (a kind
 * without a driver does not compile). Configuration picks them (`drivers` in the agent config enables
 * kinds; all are enabled by default); drivers never import this module. A target daemon the iscsi driver starts
 * outlives the agent on purpose: machines keep their disks while the agent restarts.
 */
import type { MachineKind, StorageKind } from '../statemachines/kinds';
import { ExtImageFilesystem } from './drivers/imagefs/ext';
import type { ImageFilesystem } from './drivers/imagefs/interface';
import { NtfsImageFilesystem } from './drivers/imagefs/ntfs';
import { AmtMachineDriver } from './drivers/machine/amt/driver';
import { BladeCenterMachineDriver } from './drivers/machine/bladecenter/driver';
import type { MachineDriver } from './drivers/machine/interface';
import { IpmiMachineDriver } from './drivers/machine/ipmi/driver';
import { LibvirtMachineDriver, XenMachineDriver } from './drivers/machine/libvirt/driver';
import { QemuMachineDriver } from './drivers/machine/qemu/driver';
import { RedfishMachineDriver } from './drivers/machine/redfish/driver';
import { SimMachineDriver } from './drivers/machine/sim';
import { VsphereMachineDriver } from './drivers/machine/vsphere/driver';
import { FileStorageDriver } from './drivers/storage/file';
import type { StorageDriver } from './drivers/storage/interface';
import { IscsiStorageDriver } from './drivers/storage/iscsi/driver';
import { NoDriverError } from './errors';

export interface Drivers {
  storage(kind: string): StorageDriver;
  machine(kind: string): MachineDriver;
  /** Image filesystem drivers, tried in order by `detect`. */
  imagefs: ImageFilesystem[];
}

export interface DriverConfig {
  stateDir: string;
  /** Kinds to enable; absent = all. */
  storage?: StorageKind[];
  machines?: MachineKind[];
  qemuBinary?: string;
}

function pick<K extends string, T>(all: Record<K, () => T>, enabled: readonly K[] | undefined): Record<string, T> {
  return Object.fromEntries(
    (Object.entries(all) as [K, () => T][])
      .filter(([kind]) => !enabled || enabled.includes(kind))
      .map(([kind, make]) => [kind, make()]),
  );
}

export function createDrivers(o: DriverConfig): Drivers {
  const files = new FileStorageDriver();
  const iscsi = new IscsiStorageDriver(files);
  const storage = pick<StorageKind, StorageDriver>({ file: () => files, iscsi: () => iscsi }, o.storage);
  const machines = pick<MachineKind, MachineDriver>(
    {
      sim: () => new SimMachineDriver({ stateDir: `${o.stateDir}/machines` }),
      qemu: () => new QemuMachineDriver({ stateDir: `${o.stateDir}/qemu`, qemuBinary: o.qemuBinary }),
      libvirt: () => new LibvirtMachineDriver({ stateDir: `${o.stateDir}/libvirt` }),
      ipmi: () => new IpmiMachineDriver({ stateDir: `${o.stateDir}/ipmi` }),
      redfish: () => new RedfishMachineDriver({ stateDir: `${o.stateDir}/redfish` }),
      vsphere: () => new VsphereMachineDriver({ stateDir: `${o.stateDir}/vsphere` }),
      xen: () => new XenMachineDriver({ stateDir: `${o.stateDir}/xen` }),
      bladecenter: () => new BladeCenterMachineDriver({ stateDir: `${o.stateDir}/bladecenter` }),
      amt: () => new AmtMachineDriver({ stateDir: `${o.stateDir}/amt` }),
    },
    o.machines,
  );
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
    imagefs: [new ExtImageFilesystem(), new NtfsImageFilesystem()],
  };
}
