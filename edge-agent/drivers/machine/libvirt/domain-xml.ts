/**
 * The libvirt domain of a machine: built whole from the machine's settings and the attached disk,
 * with the disk also kept in the domain's metadata so the domain alone says what is attached.
 */

import { normalizeMac } from '../common/identity';
import type { DiskRef } from '../interface';

export const METADATA_NS = 'urn:encompass:libvirt:1';

export interface DomainSpec {
  name: string;
  machineId: string;
  uuid?: string;
  domainType: 'qemu' | 'kvm';
  memoryMiB: number;
  vcpus: number;
  arch: string;
  machineType: string;
  emulator?: string;
  /** Direct kernel boot (for images without a boot loader). */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  diskBus: 'virtio' | 'sata' | 'scsi';
  macs: string[];
  /** A libvirt network name; else user-mode networking. */
  network?: string;
  /** The serial console goes to this file (truncated at each start). */
  consoleLog?: string;
  initiatorName?: string;
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** XML text as written, its entities (named and numeric) read back. */
export function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

export function domainXml(spec: DomainSpec, disk: DiskRef): string {
  const e = escapeXml;
  const os = [`<type arch='${e(spec.arch)}' machine='${e(spec.machineType)}'>hvm</type>`];
  if (spec.kernel) {
    os.push(`<kernel>${e(spec.kernel)}</kernel>`);
    if (spec.initrd) os.push(`<initrd>${e(spec.initrd)}</initrd>`);
    if (spec.cmdline) os.push(`<cmdline>${e(spec.cmdline)}</cmdline>`);
  } else {
    os.push(`<boot dev='hd'/>`);
  }
  const devices = [
    ...(spec.emulator ? [`<emulator>${e(spec.emulator)}</emulator>`] : []),
    diskXml(disk, spec),
    ...spec.macs.map((mac) => {
      const source = spec.network ? `<source network='${e(spec.network)}'/>` : '';
      return `<interface type='${spec.network ? 'network' : 'user'}'><mac address='${e(normalizeMac(mac))}'/>${source}<model type='virtio'/></interface>`;
    }),
    ...(spec.consoleLog
      ? [`<serial type='file'><source path='${e(spec.consoleLog)}'/><target port='0'/></serial>`]
      : []),
  ];
  return `<domain type='${spec.domainType}'>
  <name>${e(spec.name)}</name>
${spec.uuid ? `  <uuid>${e(spec.uuid)}</uuid>\n` : ''}  <metadata>
    <encompass:machine xmlns:encompass='${METADATA_NS}'><encompass:id>${e(spec.machineId)}</encompass:id><encompass:disk>${e(JSON.stringify(disk))}</encompass:disk></encompass:machine>
  </metadata>
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu>${spec.vcpus}</vcpu>
  <os>${os.join('')}</os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    ${devices.join('\n    ')}
  </devices>
</domain>
`;
}

function diskXml(disk: DiskRef, spec: DomainSpec): string {
  const e = escapeXml;
  const target = `<target dev='${spec.diskBus === 'virtio' ? 'vda' : 'sda'}' bus='${spec.diskBus}'/>`;
  if (disk.kind === 'file') {
    return `<disk type='file' device='disk'><driver name='qemu' type='${disk.format}'/><source file='${e(disk.path)}'/>${target}</disk>`;
  }
  const { host, port } = splitPortal(disk.portal);
  const initiator = spec.initiatorName ? `<initiator><iqn name='${e(spec.initiatorName)}'/></initiator>` : '';
  return (
    `<disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>` +
    `<source protocol='iscsi' name='${e(`${disk.target}/${disk.lun}`)}'><host name='${e(host)}' port='${port}'/>${initiator}</source>${target}</disk>`
  );
}

/** `host:port`, `[v6]:port` or a bare host (port 3260). */
export function splitPortal(portal: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(portal) ?? /^([^:]+)(?::(\d+))?$/.exec(portal);
  if (!m) return { host: portal, port: 3260 };
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 3260 };
}

/** Whether the domain XML was written by this driver, and for which machine. */
export function managedMachineId(xml: string): string | undefined {
  if (!xml.includes(METADATA_NS)) return undefined;
  const m = /<encompass:id>([^<]*)<\/encompass:id>/.exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

/** The disk recorded in a managed domain's metadata. */
export function diskFromXml(xml: string): DiskRef | undefined {
  const m = /<encompass:disk>([^<]*)<\/encompass:disk>/.exec(xml);
  return m ? (JSON.parse(unescapeXml(m[1]!)) as DiskRef) : undefined;
}
