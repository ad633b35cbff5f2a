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
  domainType: 'qemu' | 'kvm' | 'xen';
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
  /** A Xen domain (domainType 'xen'): its shape differs from a qemu one in boot, disks, NICs and console. */
  xen?: XenSpec;
}

/**
 * A Xen domain under libxl. PV: `<type>linux</type>` with a kernel or a bootloader (pygrub), disks
 * `xvda` on the xen bus, a xen console. HVM: `<type>hvm</type>` with a loader (hvmloader), disks
 * `hda` on IDE. NICs are bridged (xenbr0) unless a libvirt network is named: Xen has no user-mode
 * networking.
 */
export interface XenSpec {
  mode: 'pv' | 'hvm';
  bootloader?: string;
  loader?: string;
  bridge?: string;
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
  if (spec.xen) return xenDomainXml(spec, spec.xen, disk);
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
  return domainDocument(spec, disk, { os: os.join(''), features: '<acpi/>', devices });
}

function xenDomainXml(spec: DomainSpec, xen: XenSpec, disk: DiskRef): string {
  const e = escapeXml;
  const pv = xen.mode === 'pv';
  const os = [`<type arch='${e(spec.arch)}' machine='${e(spec.machineType)}'>${pv ? 'linux' : 'hvm'}</type>`];
  if (pv && spec.kernel) {
    os.push(`<kernel>${e(spec.kernel)}</kernel>`);
    if (spec.initrd) os.push(`<initrd>${e(spec.initrd)}</initrd>`);
    if (spec.cmdline) os.push(`<cmdline>${e(spec.cmdline)}</cmdline>`);
  }
  if (!pv) os.push(`<loader type='rom'>${e(xen.loader ?? '')}</loader><boot dev='hd'/>`);
  const target = pv ? `<target dev='xvda' bus='xen'/>` : `<target dev='hda' bus='ide'/>`;
  const source = spec.network
    ? `<source network='${e(spec.network)}'/>`
    : `<source bridge='${e(xen.bridge ?? 'xenbr0')}'/>`;
  const consoleTarget = `<target type='${pv ? 'xen' : 'serial'}' port='0'/>`;
  const devices = [
    ...(spec.emulator ? [`<emulator>${e(spec.emulator)}</emulator>`] : []),
    diskXml(disk, spec, target),
    ...spec.macs.map(
      (mac) =>
        `<interface type='${spec.network ? 'network' : 'bridge'}'><mac address='${e(normalizeMac(mac))}'/>${source}</interface>`,
    ),
    spec.consoleLog
      ? `<console type='file'><source path='${e(spec.consoleLog)}'/>${consoleTarget}</console>`
      : `<console type='pty'>${consoleTarget}</console>`,
  ];
  return domainDocument(spec, disk, {
    ...(pv && xen.bootloader ? { bootloader: xen.bootloader } : {}),
    os: os.join(''),
    features: pv ? '' : '<acpi/><apic/><pae/>',
    devices,
  });
}

/** The document around a domain's boot, features and devices: name, UUID, the disk in metadata, sizes. */
function domainDocument(
  spec: DomainSpec,
  disk: DiskRef,
  parts: { bootloader?: string; os: string; features: string; devices: string[] },
): string {
  const e = escapeXml;
  return `<domain type='${spec.domainType}'>
  <name>${e(spec.name)}</name>
${spec.uuid ? `  <uuid>${e(spec.uuid)}</uuid>\n` : ''}  <metadata>
    <encompass:machine xmlns:encompass='${METADATA_NS}'><encompass:id>${e(spec.machineId)}</encompass:id><encompass:disk>${e(JSON.stringify(disk))}</encompass:disk></encompass:machine>
  </metadata>
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <vcpu>${spec.vcpus}</vcpu>
${parts.bootloader ? `  <bootloader>${e(parts.bootloader)}</bootloader>\n` : ''}  <os>${parts.os}</os>
${parts.features ? `  <features>${parts.features}</features>\n` : ''}  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    ${parts.devices.join('\n    ')}
  </devices>
</domain>
`;
}

function diskXml(
  disk: DiskRef,
  spec: DomainSpec,
  target = `<target dev='${spec.diskBus === 'virtio' ? 'vda' : 'sda'}' bus='${spec.diskBus}'/>`,
): string {
  const e = escapeXml;
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
