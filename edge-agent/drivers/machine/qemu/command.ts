/** Builds qemu's argument vector for one machine; the process is always started without a shell. */

import type { DiskRef, MachineRef } from '../interface';
import { QemuConfigError } from './errors';
import type { QemuSettings } from './settings';

export interface QemuLaunch {
  machine: MachineRef;
  disk: DiskRef;
  settings: QemuSettings;
  /** The serial console is written here (truncated at each start). */
  consolePath: string;
  /** QMP control socket; absent when the path would be too long for a unix socket. */
  qmpPath?: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** qemu splits option values at commas; a doubled comma is a literal one. */
export function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The `-name` argument: it tells this machine's qemu from any other process (see isRunning). */
export function qemuName(machine: MachineRef): string {
  return `guest=${optionValue(`encompass-${machine.id}`)}`;
}

export function qemuArgs(launch: QemuLaunch): string[] {
  const { machine, settings } = launch;
  const args = [
    '-name',
    qemuName(machine),
    '-accel',
    'tcg',
    '-m',
    String(settings.memoryMiB),
    '-smp',
    String(settings.cpus),
    // Only the devices asked for below: no default floppy, CD-ROM, VGA or NIC to probe at boot.
    '-nodefaults',
    '-display',
    'none',
    // A guest reboot or panic (with panic=-1) ends the process, so a failed boot never loops.
    '-no-reboot',
    '-chardev',
    `file,id=console,path=${optionValue(launch.consolePath)}`,
    '-serial',
    'chardev:console',
  ];
  if (launch.qmpPath) {
    args.push(
      '-chardev',
      `socket,id=qmp,path=${optionValue(launch.qmpPath)},server=on,wait=off`,
      '-mon',
      'chardev=qmp,mode=control',
    );
  }
  if (settings.kernel) {
    args.push('-kernel', settings.kernel, '-append', settings.append);
    if (settings.initrd) args.push('-initrd', settings.initrd);
  }
  args.push('-drive', driveOption(launch));
  args.push(...identityArgs(machine));
  return args;
}

function driveOption({ machine, disk }: QemuLaunch): string {
  if (disk.kind === 'file') return `file=${optionValue(disk.path)},format=${disk.format},if=virtio`;
  const initiator = machine.identity.initiatorName;
  if (!initiator)
    throw new QemuConfigError(machine.id, 'identity.initiatorName', 'is required to log in to an iSCSI disk');
  return [
    'driver=iscsi',
    'transport=tcp',
    `portal=${optionValue(disk.portal)}`,
    `target=${optionValue(disk.target)}`,
    `lun=${disk.lun}`,
    `initiator-name=${optionValue(initiator)}`,
    'if=virtio',
  ].join(',');
}

function identityArgs(machine: MachineRef): string[] {
  const { macs, uuid, serial } = machine.identity;
  const args: string[] = [];
  const mac = macs?.[0];
  if (mac === undefined) args.push('-nic', 'none');
  else if (!MAC.test(mac))
    throw new QemuConfigError(
      machine.id,
      'identity.macs[0]',
      `is not a MAC address like 52:54:00:12:34:56 (got ${mac})`,
    );
  else args.push('-nic', `user,model=virtio-net-pci,mac=${mac}`);
  if (uuid !== undefined) {
    if (!UUID.test(uuid)) throw new QemuConfigError(machine.id, 'identity.uuid', `is not a UUID (got ${uuid})`);
    args.push('-uuid', uuid);
  }
  if (serial !== undefined) args.push('-smbios', `type=1,serial=${optionValue(serial)}`);
  return args;
}
