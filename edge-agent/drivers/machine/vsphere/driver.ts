/**
 * A virtual machine on VMware ESX or vCenter, driven over vim25 SOAP (client.ts).
 *
 * settings and credentials: see settings.ts. The VM holds the disk, as a libvirt domain does: attach
 * gives the VM the clone's disk by its datastore path (ReconfigVM_Task; the repository's
 * `settings.datastore` says where its files are on a datastore, see drivers/disk.ts) and records it
 * in the VM's extraConfig; detach takes it away again. A machine whose VM does not exist yet and
 * whose settings name a template gets its VM at attach, by a datastore-side CloneVM_Task that gives
 * each NIC a generated MAC of its own.
 *
 * Power on and off are PowerOnVM_Task and PowerOffVM_Task, each waited for; a clean shutdown is
 * ShutdownGuest (VMware Tools), and without Tools the VM is powered off at once. Every driver call
 * opens one session (Login) and ends it (Logout).
 */
import { promises as fs } from 'node:fs';
import type { FileDisk } from '../../disk';
import { consoleNotes, MachineHarness } from '../common/harness';
import { normalizeUuid } from '../common/identity';
import { powerSettings } from '../common/power-settings';
import type { DiskSlot, MachineProtocol, PowerReading, PowerSettings } from '../common/protocol';
import type { DiskRef, IdentityCapable, MachineIdentity, MachineRef } from '../interface';
import { VimClient } from './client';
import { removeVmdk, vmdkFiles, writeVmdk } from './descriptor';
import {
  VmAmbiguousError,
  VmNotFoundError,
  VmNotManagedError,
  VSPHERE_POWER_HINT,
  VsphereDiskError,
  VsphereFaultError,
} from './errors';
import { type BootDevice, bootOrder, vsphereConnection, vsphereSettings } from './settings';
import {
  type AttachedClone,
  attachSpec,
  bootOrderSpec,
  cloneParams,
  detachSpec,
  freeSlot,
  VM_PROPERTIES,
  type VmFacts,
  vmFacts,
} from './vm';
import { el, type Mor, morOf, text } from './xml';

export interface VsphereDriverOptions {
  stateDir: string;
  log?: (line: string) => void;
}

/** The machine's VM on its vCenter, in one session; `vm` is unset while a template's clone is still to be made. */
interface Target {
  machine: MachineRef;
  client: VimClient;
  vm?: Mor;
}

/** Faults that mean the guest cannot be asked to shut down: it is powered off instead. */
const NO_GUEST_SHUTDOWN = new Set(['ToolsUnavailable', 'InvalidState', 'NotSupported', 'InvalidPowerState']);

class VsphereProtocol implements MachineProtocol<Target> {
  readonly kind = 'vsphere';
  readonly powerHint = VSPHERE_POWER_HINT;

  async open(machine: MachineRef): Promise<Target> {
    const connection = vsphereConnection(machine);
    const client = await VimClient.login(connection, `machine ${machine.id}`);
    try {
      const vm = await findVm(client, machine);
      return vm ? { machine, client, vm } : { machine, client };
    } catch (err) {
      await client.logout();
      throw err;
    }
  }

  close(t: Target): Promise<void> {
    return t.client.logout();
  }

  settings(machine: MachineRef): PowerSettings {
    // PowerOnVM_Task ends once the VM runs: there is nothing more to confirm.
    const { confirmOnMs: _done, ...rest } = powerSettings(vsphereSettings(machine), 60);
    return rest;
  }

  async power(t: Target): Promise<PowerReading> {
    if (!t.vm) return 'off';
    // Suspended still holds the disk; PowerOffVM_Task takes it to off.
    return (await facts(t)).power === 'poweredOff' ? 'off' : 'on';
  }

  async powerOn(t: Target): Promise<void> {
    await t.client.runTask('PowerOnVM_Task', vmOf(t));
  }

  async softOff(t: Target): Promise<string | undefined> {
    try {
      await t.client.call('ShutdownGuest', vmOf(t));
      return undefined;
    } catch (err) {
      if (err instanceof VsphereFaultError && NO_GUEST_SHUTDOWN.has(err.fault))
        return `the guest cannot be asked to shut down (${err.fault}: are VMware Tools running?)`;
      throw err;
    }
  }

  async forceOff(t: Target): Promise<void> {
    try {
      await t.client.runTask('PowerOffVM_Task', vmOf(t));
    } catch (err) {
      // Off already (the guest finished its shutdown meanwhile).
      if (!(err instanceof VsphereFaultError && err.fault === 'InvalidPowerState')) throw err;
    }
  }

  shutdownNote(machine: MachineRef, _t: Target, seconds: number): string {
    return `machine ${machine.id}: the guest did not shut down within ${seconds} s; powering the VM off`;
  }

  readonly disk: DiskSlot<Target> = {
    attached: async (t) => {
      if (!t.vm) return undefined;
      return ownClone(t, await facts(t))?.disk;
    },
    attach: async (t, disk) => {
      const file = usableDisk(t.machine, disk);
      const order = bootOrder(t.machine);
      t.vm ??= await cloneFromTemplate(t);
      const vm = await facts(t);
      ownClone(t, vm);
      const slot = freeSlot(vm);
      if (!slot)
        throw new VsphereDiskError(
          t.machine.id,
          disk.kind === 'file' ? disk.path : '',
          `VM ${vm.name} has no SCSI controller with a free unit`,
          'Add a SCSI controller to the VM and try again.',
        );
      const size = (await fs.stat(file.path)).size;
      const vmdk = vmdkFiles(file, size);
      if (vmdk) await writeVmdk(file, vmdk, size);
      const clone: AttachedClone = { machine: t.machine.id, disk, fileName: vmdk?.datastorePath ?? file.datastore };
      try {
        await t.client.runTask('ReconfigVM_Task', vm.ref, [
          attachSpec(clone, slot, vmdk?.capacityInKB ?? Math.floor(size / 1024)),
        ]);
      } catch (err) {
        if (vmdk) await removeVmdk(vmdk);
        throw err;
      }
      if (order) await setBootOrder(t, clone, order);
    },
    detach: async (t) => {
      const vm = await facts(t);
      const clone = ownClone(t, vm);
      const device = vm.disks.find((d) => d.fileName === clone?.fileName);
      await t.client.runTask('ReconfigVM_Task', vm.ref, [detachSpec(device)]);
      if (clone?.disk.kind === 'file' && clone.disk.datastore) {
        const vmdk = vmdkFiles({ ...clone.disk, datastore: clone.disk.datastore }, 0);
        if (vmdk) await removeVmdk(vmdk);
      }
    },
  };
}

export class VsphereMachineDriver extends MachineHarness<Target> implements IdentityCapable {
  constructor(opts: VsphereDriverOptions) {
    super(new VsphereProtocol(), { stateDir: opts.stateDir, log: opts.log ?? consoleNotes('vsphere') });
  }

  /** The VM's BIOS UUID and its NICs' MACs; nothing for a VM still to be cloned from its template. */
  async identity(machine: MachineRef): Promise<MachineIdentity> {
    const t = await this.protocol.open(machine);
    try {
      if (!t.vm) return {};
      const vm = await facts(t);
      return { ...(vm.uuid ? { uuid: vm.uuid } : {}), ...(vm.macs.length ? { macs: vm.macs } : {}) };
    } finally {
      await t.client.logout();
    }
  }
}

function vmOf(t: Target): Mor {
  if (!t.vm) throw new VmNotFoundError(t.machine.id, vsphereSettings(t.machine).string('vm'));
  return t.vm;
}

async function facts(t: Target): Promise<VmFacts> {
  const [content] = await t.client.properties([vmOf(t)], 'VirtualMachine', VM_PROPERTIES);
  if (!content) throw new VmNotFoundError(t.machine.id, vmOf(t).value);
  return vmFacts(content);
}

/** The clone this driver attached for the machine; a VM holding another machine's clone is refused. */
function ownClone(t: Target, vm: VmFacts): AttachedClone | undefined {
  if (vm.attached && vm.attached.machine !== t.machine.id)
    throw new VmNotManagedError(t.machine.id, vm.name, vm.attached.machine);
  return vm.attached;
}

/** A raw or VMDK file on a datastore; anything else says what would make it usable. */
function usableDisk(machine: MachineRef, disk: DiskRef): FileDisk & { datastore: string } {
  if (disk.kind !== 'file')
    throw new VsphereDiskError(
      machine.id,
      `${disk.target}/${disk.lun}`,
      'a vSphere VM takes disk files on a datastore, not an iSCSI LUN',
      "Keep its clones in a file repository on a datastore the VM's host mounts.",
    );
  if (!disk.datastore)
    throw new VsphereDiskError(
      machine.id,
      disk.path,
      'its repository names no datastore',
      'Set the repository\'s settings.datastore to where its root is on a datastore the VM\'s host mounts, e.g. "[nfs-clones] encompass".',
    );
  if (disk.format !== 'raw')
    throw new VsphereDiskError(
      machine.id,
      disk.path,
      `ESX cannot read a ${disk.format} image`,
      'Clone it with a raw method (copy, sparse, reflink), or convert it to raw.',
    );
  return { ...disk, datastore: disk.datastore };
}

/** Boots the VM from settings.bootOrder: 'disk' is the attached clone's device, 'network' the first NIC. */
async function setBootOrder(t: Target, clone: AttachedClone, order: BootDevice[]): Promise<void> {
  const vm = await facts(t);
  const diskKey = vm.disks.find((d) => d.fileName === clone.fileName)?.key;
  const nicKey = vm.nicKeys[0];
  if (diskKey === undefined)
    throw new VsphereDiskError(
      t.machine.id,
      clone.fileName,
      `VM ${vm.name} does not show the attached disk`,
      "Check the VM's devices in vCenter, then attach again.",
    );
  if (order.includes('network') && nicKey === undefined)
    throw vsphereSettings(t.machine).fail('settings.bootOrder', `names 'network', but VM ${vm.name} has no NIC`);
  await t.client.runTask('ReconfigVM_Task', vm.ref, [
    bootOrderSpec(order.map((device) => ({ device, key: device === 'disk' ? diskKey : nicKey! }))),
  ]);
}

/** settings.vm by name, else the VM whose BIOS UUID is identity.uuid; undefined when a template will make it. */
async function findVm(client: VimClient, machine: MachineRef): Promise<Mor | undefined> {
  const s = vsphereSettings(machine);
  const name = s.optionalString('vm');
  if (name) {
    const found = await vmsNamed(client, machine, name);
    if (found) return found;
    if (s.optionalString('template')) return undefined;
    throw new VmNotFoundError(machine.id, name);
  }
  // vCenter stores BIOS UUIDs in lower case; the record may hold one in capitals.
  const uuid = normalizeUuid(machine.identity.uuid);
  if (!uuid) throw s.fail('settings.vm', 'is missing (and the machine has no identity.uuid to find its VM by)');
  const ref = morOf(
    await client.call('FindByUuid', client.content.searchIndex, [
      el('uuid', uuid),
      el('vmSearch', true),
      el('instanceUuid', false),
    ]),
  );
  if (!ref) throw new VmNotFoundError(machine.id, `with BIOS UUID ${uuid}`);
  return ref;
}

async function vmsNamed(client: VimClient, machine: MachineRef, name: string): Promise<Mor | undefined> {
  const matches = (await client.inventory('VirtualMachine', ['name'])).filter(
    (o) => text(o.props.get('name')) === name,
  );
  if (matches.length > 1)
    throw new VmAmbiguousError(
      machine.id,
      name,
      matches.map((m) => m.obj.value),
    );
  return matches[0]?.obj;
}

/** The machine's VM, cloned on the datastore from settings.template into the template's folder, with MACs of its own (cloneParams). */
async function cloneFromTemplate(t: Target): Promise<Mor> {
  const s = vsphereSettings(t.machine);
  const name = s.string('vm');
  const templateName = s.string('template');
  const ref = await vmsNamed(t.client, t.machine, templateName);
  if (!ref) throw new VmNotFoundError(t.machine.id, `${templateName} (settings.template)`);
  const [content] = await t.client.properties([ref], 'VirtualMachine', VM_PROPERTIES);
  const template = vmFacts(content!);
  if (!template.parent)
    throw s.fail(
      'settings.template',
      `names ${templateName}, which is in no folder (a vApp?), so its clone has no place`,
    );
  const made = morOf(await t.client.runTask('CloneVM_Task', ref, cloneParams(template, name, template.parent)));
  if (!made) throw new VmNotFoundError(t.machine.id, name);
  return made;
}
