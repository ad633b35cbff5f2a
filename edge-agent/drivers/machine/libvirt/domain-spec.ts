/**
 * The domain a machine's settings describe. settings: domain (encompass-<id>), domainType ('qemu' |
 * 'kvm'), memoryMiB (512), vcpus (1), arch (x86_64), machineType (pc), emulator, kernel/initrd/cmdline
 * (direct kernel boot), diskBus ('virtio' | 'sata' | 'scsi'), network (a libvirt network; else
 * user-mode), consoleLog (serial console file).
 */
import { createHash } from 'node:crypto';
import { SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import type { DomainSpec } from './domain-xml';
import { LIBVIRT_SETTINGS } from './errors';

export function libvirtSettings(machine: MachineRef): SettingsReader {
  return new SettingsReader(machine, LIBVIRT_SETTINGS);
}

/** settings.domain, or a name made from the machine id that virsh accepts. */
export function domainName(machine: MachineRef): string {
  const given = libvirtSettings(machine).optionalString('domain');
  if (given) return given;
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(machine.id)) return `encompass-${machine.id}`;
  const hash = createHash('sha256').update(machine.id).digest('hex').slice(0, 8);
  return `encompass-${machine.id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${hash}`;
}

export function domainSpec(machine: MachineRef, name: string): DomainSpec {
  const s = libvirtSettings(machine);
  const spec: DomainSpec = {
    name,
    machineId: machine.id,
    domainType: s.oneOf('domainType', ['qemu', 'kvm'] as const, 'qemu'),
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
  return spec;
}
