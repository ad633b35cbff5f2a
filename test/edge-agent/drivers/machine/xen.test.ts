/**
 * The Xen flavour of the libvirt driver, on libvirt's test:/// driver: no Xen host can run here, so
 * the domain XML and the virsh command flow are checked (define, start, shutdown, destroy, undefine),
 * not a real boot. The test driver keeps its domains in the virsh process, so the machines use
 * settings.virshShell: one virsh per URI, fed commands on stdin.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { XenMachineDriver } from '../../../../edge-agent/drivers/machine/libvirt/driver';
import { Virsh } from '../../../../edge-agent/drivers/machine/libvirt/virsh';
import { closeVirshShells } from '../../../../edge-agent/drivers/machine/libvirt/virsh-shell';
import { requireTool } from '../../../support/machines-host';
import { describeMachineConformance } from './machine.case';

/** A host of the test driver: 4 CPUs, 8 GiB, no domains. */
const HOST = `<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active><mhz>2400</mhz><model>x86_64</model></cpu>
  <memory>8388608</memory>
</node>
`;

async function makeWorkspace() {
  await requireTool('virsh', 'libvirt-clients');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-xen-'));
  const hostFile = path.join(dir, 'host.xml');
  await fs.writeFile(hostFile, HOST);
  const disk: DiskRef = { kind: 'file', path: path.join(dir, 'clone.raw'), format: 'raw' };
  const otherDisk: DiskRef = { kind: 'file', path: path.join(dir, 'other.raw'), format: 'raw' };
  for (const d of [disk, otherDisk]) if (d.kind === 'file') await fs.writeFile(d.path, Buffer.alloc(1 << 20));
  return {
    dir,
    uri: `test://${hostFile}`,
    stateDir: path.join(dir, 'state'),
    disk,
    otherDisk,
    missingDisk: { ...disk, path: path.join(dir, 'missing.raw') } as DiskRef,
  };
}

function xenVm(uri: string, settings: Record<string, unknown> = {}, identity: MachineRef['identity'] = {}): MachineRef {
  const id = `xen-${randomBytes(4).toString('hex')}`;
  return {
    id,
    name: id,
    kind: 'xen',
    identity,
    settings: {
      uri,
      virshShell: true,
      kernel: '/boot/vmlinuz-xen',
      cmdline: 'root=/dev/xvda ro',
      shutdownGraceSeconds: 0,
      ...settings,
    },
  };
}

describeMachineConformance(
  "xen (the libvirt driver's Xen flavour, on libvirt's test:/// driver: no real Xen host)",
  async () => {
    const ws = await makeWorkspace();
    return {
      ...ws,
      driver: new XenMachineDriver({ stateDir: ws.stateDir, log: () => undefined }),
      machine: xenVm(ws.uri),
      offers: { console: true, identity: false },
      cleanup: async () => {
        await closeVirshShells();
        await fs.rm(ws.dir, { recursive: true, force: true });
      },
    };
  },
);

describe('xen machine driver', () => {
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: XenMachineDriver;
  const virsh = () => new Virsh('virsh', ws.uri, 'the test', { shell: true });
  const xmlOf = async (m: MachineRef) => (await virsh().dumpxml(driver.domainName(m)))!;

  beforeEach(async () => {
    ws = await makeWorkspace();
    driver = new XenMachineDriver({ stateDir: ws.stateDir, log: () => undefined });
  });
  afterEach(async () => {
    await closeVirshShells();
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('defines a PV domain: a xen domain booting its kernel, xvda on the xen bus, a bridged NIC in 00:16:3e', async () => {
    const machine = xenVm(ws.uri);
    await driver.attach(machine, ws.disk);
    const xml = await xmlOf(machine);
    expect(xml).toMatch(/<domain type='xen'/);
    expect(xml).toMatch(/<type arch='x86_64' machine='xenpv'>linux<\/type>/);
    expect(xml).toContain('<kernel>/boot/vmlinuz-xen</kernel>');
    expect(xml).toMatch(
      new RegExp(`<source file='${ws.disk.kind === 'file' ? ws.disk.path : ''}'/>\\s*<target dev='xvda' bus='xen'/>`),
    );
    expect(xml).toMatch(
      /<interface type='bridge'>\s*<mac address='00:16:3e:[0-7][0-9a-f](:[0-9a-f]{2}){2}'\/>\s*<source bridge='xenbr0'\/>/,
    );
    expect(xml).toMatch(/<console type='pty'>[\s\S]*<target type='xen' port='0'\/>/);
    // The MAC is the machine's: the same on every define.
    await driver.detach(machine);
    const mac = /<mac address='([^']+)'/.exec(xml)![1];
    await driver.attach(machine, ws.disk);
    expect(await xmlOf(machine)).toContain(`<mac address='${mac}'/>`);
    expect(await virsh().run(['dominfo', driver.domainName(machine)])).toMatch(/OS Type:\s+linux/);
  });

  it('defines a PV domain booted by pygrub, with the identity MACs and UUID', async () => {
    const machine = xenVm(
      ws.uri,
      { kernel: undefined, cmdline: undefined, bootloader: '/usr/lib/xen/bin/pygrub' },
      { uuid: '5a1e0c4b-6f1d-4e2a-9b7c-1d2e3f405162', macs: ['00-16-3E-12-34-56'] },
    );
    await driver.attach(machine, ws.disk);
    const xml = await xmlOf(machine);
    expect(xml).toContain('<bootloader>/usr/lib/xen/bin/pygrub</bootloader>');
    expect(xml).not.toContain('<kernel>');
    expect(xml).toContain('<uuid>5a1e0c4b-6f1d-4e2a-9b7c-1d2e3f405162</uuid>');
    expect(xml).toContain("<mac address='00:16:3e:12:34:56'/>");
  });

  it('defines an HVM domain: hvmloader, hda on IDE, ACPI, on an iSCSI LUN with the initiator name', async () => {
    const machine = xenVm(ws.uri, { xenMode: 'hvm', kernel: undefined }, { initiatorName: 'iqn.2026-12.test:xen7' });
    const lun: DiskRef = {
      kind: 'iscsi',
      portal: '127.0.0.1:3261',
      target: 'iqn.2026-12.test:vol7',
      lun: 1,
      format: 'raw',
    };
    await driver.attach(machine, lun);
    const xml = await xmlOf(machine);
    expect(xml).toMatch(/<type arch='x86_64' machine='xenfv'>hvm<\/type>/);
    expect(xml).toMatch(/<loader type='rom'>\/usr\/lib\/xen\/boot\/hvmloader<\/loader>/);
    expect(xml).toMatch(/<acpi\/>/);
    expect(xml).toMatch(
      /<source protocol='iscsi' name='iqn.2026-12.test:vol7\/1'[\s\S]*<initiator>\s*<iqn name='iqn.2026-12.test:xen7'\/>[\s\S]*<target dev='hda' bus='ide'\/>/,
    );
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: lun, bootCount: 0 });
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect(await virsh().run(['domstate', driver.domainName(machine)])).toMatch(/running/);
  });

  it('defines a PV domain on an iSCSI LUN: a network disk with its portal host and port, as xvda on the xen bus', async () => {
    const machine = xenVm(ws.uri, {}, { initiatorName: 'iqn.2026-12.test:xenpv' });
    const lun: DiskRef = {
      kind: 'iscsi',
      portal: '[::1]:3262',
      target: 'iqn.2026-12.test:vol9',
      lun: 3,
      format: 'raw',
    };
    await driver.attach(machine, lun);
    const xml = await xmlOf(machine);
    const disk = /<disk type='network' device='disk'>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? '';
    expect(disk).toMatch(/<source protocol='iscsi' name='iqn.2026-12.test:vol9\/3'>/);
    expect(disk).toMatch(/<host name='::1' port='3262'\/>/);
    expect(disk).toMatch(/<initiator>\s*<iqn name='iqn.2026-12.test:xenpv'\/>\s*<\/initiator>/);
    expect(disk).toMatch(/<target dev='xvda' bus='xen'\/>/);
    expect(xml).not.toMatch(/<disk type='file'/);
    // The LUN the domain was defined with is the one the driver reports attached.
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: lun, bootCount: 0 });
  });

  it('asks for a kernel or a bootloader for a PV domain before defining anything', async () => {
    const machine = xenVm(ws.uri, { kernel: undefined });
    await expect(driver.attach(machine, ws.disk)).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.kernel',
      message: expect.stringMatching(/pygrub[\s\S]*Xen settings/),
    });
    expect(await driver.status(machine)).toEqual({ power: 'off', bootCount: 0 });
  });
});
