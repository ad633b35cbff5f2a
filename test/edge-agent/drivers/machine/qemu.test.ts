import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileDisk } from '../../../../edge-agent/drivers/disk';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { qemuArgs } from '../../../../edge-agent/drivers/machine/qemu/command';
import { QemuMachineDriver } from '../../../../edge-agent/drivers/machine/qemu/driver';
import { DEFAULT_APPEND, qemuSettings } from '../../../../edge-agent/drivers/machine/qemu/settings';
import { type BootKernel, bootKernel, makeBootableRoot } from '../../../support/bootable';
import { debugfsCat } from '../../../support/images';
import { describeMachineConformance } from './machine.case';

const run = promisify(execFile);

// Each boot under TCG takes 8-30 s on a busy 2-core host.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

let root: string;
let master: string;
let kernel: BootKernel;
let caseNumber = 0;

beforeAll(async () => {
  await run('qemu-system-x86_64', ['--version']).catch((err) => {
    throw new Error(
      `qemu-system-x86_64 is needed to boot test machines: apt-get install -y qemu-system-x86 (${err.message})`,
    );
  });
  kernel = bootKernel();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-qemu-'));
  master = path.join(root, 'master.raw');
  await makeBootableRoot(master);
});

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

function machineRef(
  id: string,
  settings: Record<string, unknown> = {},
  identity: MachineRef['identity'] = {},
): MachineRef {
  const boot = { kernel: kernel.kernel, initrd: kernel.initrd, bootTimeoutSeconds: 200, powerOffGraceSeconds: 30 };
  return { id, name: `qemu ${id}`, kind: 'qemu', identity, settings: { ...boot, ...settings } };
}

/** A fresh directory for one case: the driver's state and the case's disks. */
async function workspace() {
  const dir = path.join(root, `case-${++caseNumber}`);
  await fs.mkdir(dir);
  return { dir, stateDir: path.join(dir, 'state') };
}

async function rawClone(dir: string, name: string): Promise<FileDisk> {
  const file = path.join(dir, name);
  await fs.copyFile(master, file);
  return { kind: 'file', path: file, format: 'raw' };
}

/** PIDs of qemu processes whose command line mentions this suite's temp directory. */
async function qemuLeftRunning(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (argv.startsWith('qemu-system') && argv.includes(root)) pids.push(Number(entry));
  }
  return pids;
}

async function waitUntilOff(driver: QemuMachineDriver, machine: MachineRef): Promise<void> {
  await vi.waitFor(async () => expect((await driver.status(machine)).power).toBe('off'), {
    timeout: 60_000,
    interval: 250,
  });
}

describeMachineConformance('qemu', async () => {
  const { dir, stateDir } = await workspace();
  const driver = new QemuMachineDriver({ stateDir });
  const machine = machineRef('m-conformance');
  const otherDisk: DiskRef = { kind: 'file', path: path.join(dir, 'other.raw'), format: 'raw' };
  await fs.writeFile(otherDisk.path, Buffer.alloc(4096));
  return {
    driver,
    machine,
    offers: { console: true, identity: false },
    disk: await rawClone(dir, 'disk.raw'),
    otherDisk,
    missingDisk: { kind: 'file', path: path.join(dir, 'missing.raw'), format: 'raw' },
    cleanup: async () => {
      await driver.powerOff(machine);
    },
  };
});

describe('qemu machine driver', () => {
  let ws: Awaited<ReturnType<typeof workspace>>;
  let driver: QemuMachineDriver;

  beforeEach(async () => {
    ws = await workspace();
    driver = new QemuMachineDriver({ stateDir: ws.stateDir });
  });

  it('boots a clone with a new hostname and shows it, the uuid, serial and MAC on the console; a guest that then powers itself off counts as booted', async () => {
    const clone = await rawClone(ws.dir, 'blade-07.raw');
    const hostname = path.join(ws.dir, 'hostname');
    await fs.writeFile(hostname, 'blade-07\n');
    await run('debugfs', ['-w', '-R', 'rm /etc/hostname', clone.path]);
    await run('debugfs', ['-w', '-R', `write ${hostname} /etc/hostname`, clone.path]);
    expect(await debugfsCat(clone.path, '/etc/hostname')).toBe('blade-07\n');

    const identity = { macs: ['52:54:00:12:34:56'], uuid: '4c4c4544-0042-3510-8052-b4c04f384d32', serial: 'SN-7,A' };
    const machine = machineRef('blade-07', { append: `${DEFAULT_APPEND} encompass.uptime=0` }, identity);
    await driver.attach(machine, clone);
    const startedAt = Date.now();
    expect(await driver.powerOn(machine)).toMatchObject({ booted: true, bootCount: 1 });
    console.info(`qemu boot of a raw clone took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

    const text = await driver.console(machine);
    expect(text).toContain('ENCOMPASS-HOSTNAME: blade-07');
    expect(text).toContain(`ENCOMPASS-UUID: ${identity.uuid}`);
    expect(text).toContain('ENCOMPASS-SERIAL: SN-7,A');
    expect(text).toContain('ENCOMPASS-MACS: 52:54:00:12:34:56');
    await waitUntilOff(driver, machine);
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: clone, bootCount: 1 });
    await driver.detach(machine);
  });

  it('boots a qcow2 overlay, and a restarted driver finds it running and powers it off with the power button', async () => {
    const overlay = path.join(ws.dir, 'clone.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', master, '-F', 'raw', overlay]);
    const disk: DiskRef = { kind: 'file', path: overlay, format: 'qcow2' };
    const machine = machineRef('overlay');
    await driver.attach(machine, disk);
    const startedAt = Date.now();
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    console.info(`qemu boot of a qcow2 overlay took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    const proc = (await driver.records.read(machine)).process!;

    const restarted = new QemuMachineDriver({ stateDir: ws.stateDir });
    expect(await restarted.status(machine)).toEqual({ power: 'on', disk, bootCount: 1 });
    expect(await restarted.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    const stoppingAt = Date.now();
    expect(await restarted.powerOff(machine)).toEqual({ power: 'off' });
    console.info(`qemu power off by the power button took ${((Date.now() - stoppingAt) / 1000).toFixed(1)} s`);
    expect(await restarted.console(machine)).toContain('ENCOMPASS-POWERING-OFF');
    // Off as the driver reads it; on a loaded host the exited process may take a moment to be reaped.
    const gone = () => fs.stat(`/proc/${proc.pid}`).catch(() => undefined);
    for (const until = Date.now() + 5000; (await gone()) && Date.now() < until; ) await sleep(50);
    expect(await gone()).toBeUndefined();
    expect(await restarted.status(machine)).toEqual({ power: 'off', disk, bootCount: 1 });
  });

  it('fails to power on with BootFailedError naming a missing kernel, and stays off', async () => {
    const missing = path.join(ws.dir, 'no-such-vmlinuz');
    const machine = machineRef('no-kernel', { kernel: missing });
    await driver.attach(machine, await rawClone(ws.dir, 'disk.raw'));
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'BootFailedError',
      code: 'boot_failed',
      message: expect.stringContaining(missing),
    });
    expect((await driver.status(machine)).power).toBe('off');
  });

  it("reports qemu's own complaint when the kernel file is not a kernel", async () => {
    const notAKernel = path.join(ws.dir, 'not-a-kernel');
    await fs.writeFile(notAKernel, 'just text\n');
    const machine = machineRef('bad-kernel', { kernel: notAKernel, initrd: undefined });
    await driver.attach(machine, await rawClone(ws.dir, 'disk.raw'));
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'BootFailedError',
      message: expect.stringMatching(/qemu exited .*qemu said: .*kernel/s),
    });
    expect(await driver.status(machine)).toMatchObject({ power: 'off', bootCount: 0 });
  });

  it('gives up on a boot that never shows the marker within bootTimeoutSeconds, and stops qemu', async () => {
    const machine = machineRef('no-marker', { bootMarker: 'NEVER-PRINTED', bootTimeoutSeconds: 3 });
    await driver.attach(machine, await rawClone(ws.dir, 'disk.raw'));
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'BootFailedError',
      message: expect.stringContaining('within 3 s'),
    });
    expect(await driver.status(machine)).toMatchObject({ power: 'off', bootCount: 0 });
    expect(await driver.records.read(machine)).not.toHaveProperty('process');
  });

  it('refuses settings qemu cannot use before starting anything', async () => {
    const machine = machineRef('bad-settings', { memoryMiB: 'lots' });
    await driver.attach(machine, await rawClone(ws.dir, 'disk.raw'));
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'QemuConfigError',
      code: 'invalid_qemu_config',
      field: 'settings.memoryMiB',
    });
    expect(() => qemuSettings(machineRef('bad-marker', { bootMarker: '(' }))).toThrow(
      /settings.bootMarker is not a valid regular expression/,
    );
  });

  it('passes the identity and an iSCSI disk to qemu, doubling commas in option values', () => {
    const machine = machineRef(
      'iscsi',
      {},
      {
        macs: ['52:54:00:00:00:09'],
        uuid: '00000000-0000-4000-8000-000000000009',
        serial: 'S,1',
        initiatorName: 'iqn.2024-01.test:blade',
      },
    );
    const disk: DiskRef = {
      kind: 'iscsi',
      portal: '127.0.0.1:3260',
      target: 'iqn.2024-01.test:clone-9',
      lun: 1,
      format: 'raw',
    };
    const args = qemuArgs({ machine, disk, settings: qemuSettings(machine), consolePath: '/var/lib/a,b/console.log' });
    expect(args).toEqual(
      expect.arrayContaining([
        '-accel',
        'tcg',
        '-no-reboot',
        '-uuid',
        machine.identity.uuid,
        '-smbios',
        'type=1,serial=S,,1',
      ]),
    );
    expect(args).toContain('user,model=virtio-net-pci,mac=52:54:00:00:00:09');
    expect(args).toContain('file,id=console,path=/var/lib/a,,b/console.log');
    expect(args).toContain(
      'driver=iscsi,transport=tcp,portal=127.0.0.1:3260,target=iqn.2024-01.test:clone-9,lun=1,initiator-name=iqn.2024-01.test:blade,if=virtio',
    );
    const anonymous = { ...machine, identity: {} };
    expect(() => qemuArgs({ machine: anonymous, disk, settings: qemuSettings(anonymous), consolePath: '/c' })).toThrow(
      /identity.initiatorName/,
    );
  });

  it('leaves no qemu process behind', async () => {
    expect(await qemuLeftRunning()).toEqual([]);
  });
});
