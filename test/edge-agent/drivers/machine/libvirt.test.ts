import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { domainXml } from '../../../../edge-agent/drivers/machine/libvirt/domain-xml';
import { LibvirtMachineDriver } from '../../../../edge-agent/drivers/machine/libvirt/driver';
import { ensureLibvirtd, type Libvirtd } from '../../../support/machines-libvirt';
import { describeMachineConformance } from './machine.case';

const run = promisify(execFile);

let daemonStarting: Promise<Libvirtd> | undefined;
const libvirtd = () => {
  daemonStarting ??= ensureLibvirtd();
  return daemonStarting;
};
afterAll(async () => (await daemonStarting)?.stop());

const virsh = async (...args: string[]) => (await run('virsh', ['-q', '-c', (await libvirtd()).uri, ...args])).stdout;

/** Tiny domains that never reach an OS: SeaBIOS finds no boot loader on a blank disk and waits. */
function vm(settings: Record<string, unknown> = {}, identity: MachineRef['identity'] = {}): MachineRef {
  const id = `vm-${randomBytes(4).toString('hex')}`;
  return { id, name: id, kind: 'libvirt', identity, settings: { memoryMiB: 64, shutdownGraceSeconds: 0, ...settings } };
}

async function makeWorkspace() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-libvirt-'));
  // qemu runs as libvirt-qemu, which must search the directory to open the disks.
  await fs.chmod(dir, 0o755);
  const disk: DiskRef = { kind: 'file', path: path.join(dir, 'clone.raw'), format: 'raw' };
  const otherDisk: DiskRef = { kind: 'file', path: path.join(dir, 'other.qcow2'), format: 'qcow2' };
  await fs.writeFile(disk.path, Buffer.alloc(1 << 20));
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', otherDisk.path, '16M']);
  return {
    dir,
    stateDir: path.join(dir, 'state'),
    disk,
    otherDisk,
    missingDisk: { ...disk, path: path.join(dir, 'missing.raw') } as DiskRef,
  };
}

/** Whatever a test left behind: the domain is destroyed and undefined, the workspace removed. */
async function removeDomain(driver: LibvirtMachineDriver, machine: MachineRef): Promise<void> {
  const name = driver.domainName(machine);
  await virsh('destroy', name).catch(() => undefined);
  await virsh('undefine', name).catch(() => undefined);
}

describeMachineConformance(
  'libvirt (qemu:///system, TCG domains; booted = running, as no boot marker is watched)',
  async () => {
    await libvirtd();
    const ws = await makeWorkspace();
    const driver = new LibvirtMachineDriver({ stateDir: ws.stateDir, log: () => undefined });
    const machine = vm();
    return {
      ...ws,
      driver,
      machine,
      offers: { console: true, identity: false },
      cleanup: async () => {
        await removeDomain(driver, machine);
        await fs.rm(ws.dir, { recursive: true, force: true });
      },
    };
  },
);

describe('libvirt machine driver', () => {
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: LibvirtMachineDriver;
  let notes: string[];
  const made: MachineRef[] = [];
  const track = (m: MachineRef) => {
    made.push(m);
    return m;
  };

  beforeAll(async () => {
    await libvirtd();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    notes = [];
    driver = new LibvirtMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
  });
  afterEach(async () => {
    for (const m of made.splice(0)) await removeDomain(driver, m);
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('defines a domain with the disk, ACPI, and the identity: UUID and normalized MACs', async () => {
    const machine = track(vm({}, { uuid: '6c1f7d0e-2b3a-4c5d-9e8f-112233445566', macs: ['52-54-00-AA-BB-0C'] }));
    await driver.attach(machine, ws.disk);
    const xml = await virsh('dumpxml', driver.domainName(machine));
    expect(xml).toContain(`<source file='${ws.disk.path}'`);
    expect(xml).toContain('<acpi/>');
    expect(xml).toContain('<uuid>6c1f7d0e-2b3a-4c5d-9e8f-112233445566</uuid>');
    expect(xml).toContain("<mac address='52:54:00:aa:bb:0c'/>");
  });

  it('defines an iSCSI disk with its portal, LUN and the machine initiator name', async () => {
    const machine = track(vm({}, { initiatorName: 'iqn.2026-11.test:blade7' }));
    const lun: DiskRef = {
      kind: 'iscsi',
      portal: '127.0.0.1:3261',
      target: 'iqn.2026-11.test:vol7',
      lun: 1,
      format: 'raw',
    };
    await driver.attach(machine, lun);
    const xml = await virsh('dumpxml', driver.domainName(machine));
    expect(xml).toMatch(/<disk type='network' device='disk'>/);
    expect(xml).toMatch(
      /<source protocol='iscsi' name='iqn.2026-11.test:vol7\/1'[^>]*>\s*<host name='127.0.0.1' port='3261'\/>\s*<initiator>\s*<iqn name='iqn.2026-11.test:blade7'\/>/,
    );
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: lun, bootCount: 0 });
  });

  it('boots when the serial console shows the boot marker (a real kernel printing its banner)', async () => {
    const kernel = (await fs.readdir('/boot').catch(() => [])).find((f) => f.startsWith('vmlinuz-'));
    expect(kernel, 'a kernel under /boot is needed: apt-get install -y linux-image-amd64').toBeDefined();
    const consoleLog = path.join(ws.dir, 'console.log');
    const machine = track(
      vm({
        kernel: `/boot/${kernel}`,
        cmdline: 'console=ttyS0 panic=-1',
        memoryMiB: 512,
        consoleLog,
        bootMarker: 'Linux version',
        bootTimeoutSeconds: 90,
      }),
    );
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect(await fs.readFile(consoleLog, 'utf8')).toMatch(/Linux version/);
  }, 120_000);

  it('fails a boot whose console never shows the marker, destroys the domain and counts no boot', async () => {
    const machine = track(
      vm({ consoleLog: path.join(ws.dir, 'console.log'), bootMarker: 'NEVER-PRINTED', bootTimeoutSeconds: 2 }),
    );
    await driver.attach(machine, ws.disk);
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'BootFailedError',
      code: 'boot_failed',
      diskPath: ws.disk.path,
    });
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: ws.disk, bootCount: 0 });
  });

  it('destroys a domain whose guest ignores the ACPI shutdown for the grace period, noting it', async () => {
    const machine = track(vm({ shutdownGraceSeconds: 1 }));
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(notes.join('\n')).toMatch(/did not shut down within 1 s; destroying it/);
  });

  it('leaves alone a domain of the same name that it did not define', async () => {
    const machine = track(vm());
    const foreign = domainXml(
      {
        name: driver.domainName(machine),
        machineId: 'someone-else',
        domainType: 'qemu',
        memoryMiB: 64,
        vcpus: 1,
        arch: 'x86_64',
        machineType: 'pc',
        diskBus: 'virtio',
        macs: [],
      },
      ws.otherDisk,
    );
    await fs.writeFile(path.join(ws.dir, 'foreign.xml'), foreign);
    await virsh('define', path.join(ws.dir, 'foreign.xml'));
    await expect(driver.attach(machine, ws.disk)).rejects.toMatchObject({
      name: 'DomainConflictError',
      code: 'domain_not_managed',
    });
    await expect(driver.detach(machine)).rejects.toMatchObject({ code: 'domain_not_managed' });
    expect(await virsh('domstate', driver.domainName(machine))).toMatch(/shut off/);
  });

  it('says the qemu user cannot reach a disk in a private directory', async () => {
    const hidden = path.join(ws.dir, 'private');
    await fs.mkdir(hidden, { mode: 0o700 });
    const disk: DiskRef = { kind: 'file', path: path.join(hidden, 'clone.raw'), format: 'raw' };
    await fs.writeFile(disk.path, Buffer.alloc(1 << 20));
    const machine = track(vm());
    await driver.attach(machine, disk);
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'VirshCommandError',
      code: 'virsh_failed',
      message: expect.stringMatching(/chmod o\+x/),
    });
    expect((await driver.status(machine)).power).toBe('off');
  });
});
