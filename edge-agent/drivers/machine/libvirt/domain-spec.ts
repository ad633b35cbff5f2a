/**
 * The domain a machine's settings describe. settings: domain (encompass-<id>), domainType ('qemu' |
 * 'kvm'), memoryMiB (512), vcpus (1), arch (x86_64), machineType (pc), emulator, kernel/initrd/cmdline
 * (direct kernel boot), diskBus ('virtio' | 'sata' | 'scsi'), network (a libvirt network; else
 * user-mode), consoleLog (serial console file).
 *
 * The Xen flavour (kind `xen`, libvirt's libxl driver) reads instead: xenMode ('pv' | 'hvm'; pv), a
 * PV domain's kernel/initrd/cmdline or bootloader (pygrub), an HVM domain's loader
 * (/usr/lib/xen/boot/hvmloader), bridge (xenbr0; unless network names a libvirt network). Without
 * identity.macs a Xen domain gets one MAC in Xen's 00:16:3e range, made from the machine id.
 */
import { createHash } from 'node:crypto';
import { SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import type { DomainSpec, XenSpec } from './domain-xml';
import { LIBVIRT_SETTINGS, XEN_SETTINGS } from './errors';

/** The libvirt driver's flavours: a qemu/KVM host, or a Xen host through libxl. */
export type Flavour = 'libvirt' | 'xen';

export function libvirtSettings(machine: MachineRef, flavour: Flavour = 'libvirt'): SettingsReader {
  return new SettingsReader(machine, flavour === 'xen' ? XEN_SETTINGS : LIBVIRT_SETTINGS);
}

/** settings.domain, or a name made from the machine id that virsh accepts. */
export function domainName(machine: MachineRef): string {
  const given = libvirtSettings(machine).optionalString('domain');
  if (given) return given;
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(machine.id)) return `encompass-${machine.id}`;
  const hash = createHash('sha256').update(machine.id).digest('hex').slice(0, 8);
  return `encompass-${machine.id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${hash}`;
}

export function domainSpec(machine: MachineRef, name: string, flavour: Flavour = 'libvirt'): DomainSpec {
  const s = libvirtSettings(machine, flavour);
  const spec: DomainSpec = {
    name,
    machineId: machine.id,
    domainType: flavour === 'xen' ? 'xen' : s.oneOf('domainType', ['qemu', 'kvm'] as const, 'qemu'),
    memoryMiB: Math.round(s.number('memoryMiB', 512, 16, 1 << 20)),
    vcpus: Math.round(s.number('vcpus', 1, 1, 256)),
    arch: s.string('arch', 'x86_64'),
    machineType: s.string('machineType', 'pc'),
    diskBus: s.oneOf('diskBus', ['virtio', 'sata', 'scsi'] as const, 'virtio'),
    macs: machine.identity.macs ?? [],
  };
  for (const key of ['emulator', 'kernel', 'initrd', 'cmdline', 'network', 'consoleLog'] as const) {
    const v = s.optionalString(key);
    if (v !== undefined) spec[key] = v;
  }
  if (machine.identity.uuid) spec.uuid = machine.identity.uuid;
  if (machine.identity.initiatorName) spec.initiatorName = machine.identity.initiatorName;
  if (flavour === 'xen') return xenSpec(machine, s, spec);
  return spec;
}

function xenSpec(machine: MachineRef, s: SettingsReader, spec: DomainSpec): DomainSpec {
  const mode = s.oneOf('xenMode', ['pv', 'hvm'] as const, 'pv');
  const bootloader = s.optionalString('bootloader');
  if (mode === 'pv' && !spec.kernel && !bootloader)
    throw s.fail(
      'settings.kernel',
      'is missing: a PV domain boots a kernel (kernel, initrd, cmdline) or a bootloader such as pygrub',
    );
  const xen: XenSpec = { mode };
  if (mode === 'pv' && bootloader) xen.bootloader = bootloader;
  if (mode === 'hvm') xen.loader = s.string('loader', '/usr/lib/xen/boot/hvmloader');
  if (!spec.network) xen.bridge = s.string('bridge', 'xenbr0');
  const macs = spec.macs.length ? spec.macs : [xenMac(machine.id)];
  return { ...spec, machineType: mode === 'pv' ? 'xenpv' : 'xenfv', macs, xen };
}

/** A stable MAC in Xen's OUI 00:16:3e, from the machine id. */
export function xenMac(machineId: string): string {
  const h = createHash('sha256').update(machineId).digest();
  // The first byte under 0x80 keeps clear of the upper half Xen tools leave to themselves.
  return ['00', '16', '3e', (h[0]! & 0x7f).toString(16), h[1]!.toString(16), h[2]!.toString(16)]
    .map((b) => b.padStart(2, '0'))
    .join(':');
}
