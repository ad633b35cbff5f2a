/**
 * A VM as the driver reads it (one RetrievePropertiesEx of VM_PROPERTIES) and the config specs it
 * sends: adding and removing the clone's disk, with the disk recorded in the VM's extraConfig
 * (`encompass.disk`) so the VM alone says what is attached and for which machine.
 */
import { normalizeMac, normalizeUuid } from '../common/identity';
import type { DiskRef } from '../interface';
import type { ObjectContent } from './client';
import { all, copyEl, type El, el, type Mor, morEl, morOf, type Node, one, text, xsiType } from './xml';

export const VM_PROPERTIES = [
  'name',
  'config.uuid',
  'config.instanceUuid',
  'config.template',
  'config.hardware.numCPU',
  'config.hardware.memoryMB',
  'config.hardware.device',
  'config.extraConfig',
  'runtime.powerState',
  'parent',
  'resourcePool',
] as const;

/** The extraConfig key holding `{machine, disk, fileName}` of the attached clone ('' when none). */
export const DISK_KEY = 'encompass.disk';

export interface VmDisk {
  key: number;
  fileName: string;
  controllerKey: number;
  unitNumber: number;
  capacityInKB: number;
}

/** What the VM's extraConfig says this driver attached. */
export interface AttachedClone {
  machine: string;
  disk: DiskRef;
  /** The datastore path the VM's disk device was given. */
  fileName: string;
}

export interface VmFacts {
  ref: Mor;
  name: string;
  /** BIOS (SMBIOS) UUID, normalized. */
  uuid?: string;
  instanceUuid?: string;
  template: boolean;
  cpus?: number;
  memoryMiB?: number;
  power: 'poweredOn' | 'poweredOff' | 'suspended';
  macs: string[];
  /** The device keys of the VM's NICs, in device order. */
  nicKeys: number[];
  /** The VM's NICs as it holds them, for sending back edited. */
  nics: Node[];
  disks: VmDisk[];
  scsiControllers: number[];
  attached?: AttachedClone;
  parent?: Mor;
  pool?: Mor;
}

const number = (n: Node | undefined) => {
  const v = Number(text(n));
  return text(n) !== '' && Number.isFinite(v) ? v : undefined;
};

export function vmFacts({ obj, props }: ObjectContent): VmFacts {
  const get = (p: string) => props.get(p);
  const devices = all(get('config.hardware.device'), 'VirtualDevice');
  // A NIC is the device with a MAC address (VirtualE1000, VirtualVmxnet3, … all carry one).
  const nics = devices.filter((d) => text(one(d, 'macAddress')) !== '');
  const extra = new Map<string, string>();
  // The last value of a key wins; '' removes it (vCenter replaces, the simulator appends).
  for (const o of all(get('config.extraConfig'), 'OptionValue')) extra.set(text(one(o, 'key')), text(one(o, 'value')));
  const uuid = normalizeUuid(text(get('config.uuid')) || undefined);
  const instanceUuid = normalizeUuid(text(get('config.instanceUuid')) || undefined);
  const cpus = number(get('config.hardware.numCPU'));
  const memoryMiB = number(get('config.hardware.memoryMB'));
  const parent = morOf(get('parent'));
  const pool = morOf(get('resourcePool'));
  const attached = parseAttached(extra.get(DISK_KEY));
  const power = text(get('runtime.powerState'));
  return {
    ref: obj,
    name: text(get('name')),
    ...(uuid ? { uuid } : {}),
    ...(instanceUuid ? { instanceUuid } : {}),
    template: text(get('config.template')) === 'true',
    ...(cpus !== undefined ? { cpus } : {}),
    ...(memoryMiB !== undefined ? { memoryMiB } : {}),
    power: power === 'poweredOn' || power === 'suspended' ? power : 'poweredOff',
    macs: nics.map((d) => normalizeMac(text(one(d, 'macAddress')))),
    nicKeys: nics.map((d) => number(one(d, 'key')) ?? 0),
    nics,
    disks: devices.filter((d) => xsiType(d) === 'VirtualDisk').map(diskOf),
    scsiControllers: devices
      .filter((d) => /SCSIController$|LsiLogic|BusLogic/.test(xsiType(d) ?? ''))
      .map((d) => number(one(d, 'key')) ?? 0),
    ...(attached ? { attached } : {}),
    ...(parent ? { parent } : {}),
    ...(pool ? { pool } : {}),
  };
}

function diskOf(d: Node): VmDisk {
  return {
    key: number(one(d, 'key')) ?? 0,
    fileName: text(one(one(d, 'backing'), 'fileName')),
    controllerKey: number(one(d, 'controllerKey')) ?? 0,
    unitNumber: number(one(d, 'unitNumber')) ?? 0,
    capacityInKB: number(one(d, 'capacityInKB')) ?? 0,
  };
}

function parseAttached(value: string | undefined): AttachedClone | undefined {
  if (!value) return undefined;
  try {
    const v = JSON.parse(value) as Partial<AttachedClone>;
    return typeof v.machine === 'string' && typeof v.fileName === 'string' && v.disk ? (v as AttachedClone) : undefined;
  } catch {
    return undefined;
  }
}

/** The first free unit on a SCSI controller (unit 7 is the controller's own). */
export function freeSlot(vm: VmFacts): { controllerKey: number; unitNumber: number } | undefined {
  const devices = vm.disks;
  for (const controllerKey of vm.scsiControllers) {
    const used = new Set(devices.filter((d) => d.controllerKey === controllerKey).map((d) => d.unitNumber));
    for (let unit = 0; unit < 16; unit++) if (unit !== 7 && !used.has(unit)) return { controllerKey, unitNumber: unit };
  }
  return undefined;
}

const extraConfig = (value: string) => el('extraConfig', [el('key', DISK_KEY), el('value', value, 'xsd:string')]);

function diskDevice(d: Omit<VmDisk, 'key'> & { key: number }): El {
  return el(
    'device',
    [
      el('key', d.key),
      el('backing', [el('fileName', d.fileName), el('diskMode', 'persistent')], 'VirtualDiskFlatVer2BackingInfo'),
      el('controllerKey', d.controllerKey),
      el('unitNumber', d.unitNumber),
      el('capacityInKB', d.capacityInKB),
    ],
    'VirtualDisk',
  );
}

/** Adds the existing disk file `clone.fileName` (no file operation: nothing is created) and records it. */
export function attachSpec(
  clone: AttachedClone,
  slot: { controllerKey: number; unitNumber: number },
  capacityInKB: number,
): El {
  return el('spec', [
    el('deviceChange', [
      el('operation', 'add'),
      diskDevice({ key: -100, fileName: clone.fileName, ...slot, capacityInKB }),
    ]),
    extraConfig(JSON.stringify(clone)),
  ]);
}

/** Removes the disk device (the file stays: it is the clone) and the record of it. */
export function detachSpec(disk: VmDisk | undefined): El {
  return el('spec', [
    disk ? el('deviceChange', [el('operation', 'remove'), diskDevice(disk)]) : undefined,
    extraConfig(''),
  ]);
}

/** Sets config.bootOptions.bootOrder: each device by its key, a disk or a NIC. */
export function bootOrderSpec(order: { device: 'disk' | 'network'; key: number }[]): El {
  return el('spec', [
    el(
      'bootOptions',
      order.map(({ device, key }) =>
        el(
          'bootOrder',
          [el('deviceKey', key)],
          device === 'disk'
            ? 'VirtualMachineBootOptionsBootableDiskDevice'
            : 'VirtualMachineBootOptionsBootableEthernetDevice',
        ),
      ),
    ),
  ]);
}

/**
 * A clone of a VM or template, powered off, in the template's folder and resource pool. Each NIC
 * is edited in the clone itself to a generated MAC (addressType 'generated', no macAddress), its
 * backing and the rest as the template has them: a clone keeping the template's MAC would share
 * it with the template and every other clone.
 */
export function cloneParams(template: VmFacts, name: string, folder: Mor): El[] {
  return [
    morEl('folder', folder),
    el('name', name),
    el('spec', [
      el('location', [template.pool ? morEl('pool', template.pool) : undefined]),
      el('template', false),
      template.nics.length
        ? el(
            'config',
            template.nics.map((nic) => el('deviceChange', [el('operation', 'edit'), generatedMac(nic)])),
          )
        : undefined,
      el('powerOn', false),
    ]),
  ];
}

/**
 * The NIC as the VM holds it (deviceInfo included: the simulator needs it on an edit), with
 * addressType 'generated' (VirtualEthernetCardMacType) and no macAddress, so the host makes a new one.
 */
function generatedMac(nic: Node): El {
  const device = copyEl('device', nic);
  const fields = Array.isArray(device.body) ? device.body.filter((f) => f.tag !== 'macAddress') : [];
  const at = fields.findIndex((f) => f.tag === 'addressType');
  const addressType = el('addressType', 'generated');
  if (at >= 0) fields[at] = addressType;
  else {
    // addressType comes before macAddress, after the VirtualDevice fields.
    const after = fields.map((f) => f.tag).lastIndexOf('unitNumber');
    fields.splice(after + 1, 0, addressType);
  }
  return { ...device, body: fields };
}

/** The device keys and file names of a VM's disks, for discovery. */
export function diskFiles(vm: VmFacts): string[] {
  return vm.disks.map((d) => d.fileName).filter(Boolean);
}
