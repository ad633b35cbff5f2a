import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datastorePath } from '../../../../edge-agent/drivers/disk';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { VimClient } from '../../../../edge-agent/drivers/machine/vsphere/client';
import { VsphereMachineDriver } from '../../../../edge-agent/drivers/machine/vsphere/driver';
import { VM_PROPERTIES, vmFacts } from '../../../../edge-agent/drivers/machine/vsphere/vm';
import { all, one, text, xsiType } from '../../../../edge-agent/drivers/machine/vsphere/xml';
import { startVcsim, type Vcsim } from '../../../support/vcsim/vcsim';
import { describeMachineConformance } from './machine.case';

// One simulator for the file (its inventory outlives each test; every test's VM and files are its own).
let starting: Promise<Vcsim> | undefined;
const vcsim = () => {
  starting ??= startVcsim();
  return starting;
};
afterAll(async () => (await starting)?.stop(), 30_000);

/** A machine whose VM is cloned from the simulator's DC0_H0_VM0 at its first attach. */
function vmMachine(
  sim: Vcsim,
  settings: Record<string, unknown> = {},
  identity: MachineRef['identity'] = {},
): MachineRef {
  const id = `vs-${randomBytes(4).toString('hex')}`;
  return {
    id,
    name: id,
    kind: 'vsphere',
    identity,
    settings: {
      endpoint: sim.url,
      vm: `encompass-${id}`,
      template: 'DC0_H0_VM0',
      shutdownGraceSeconds: 1,
      ...settings,
    },
    credentials: { username: sim.username, password: sim.password },
  };
}

/** A workspace directory on the simulator's datastore, as a repository whose settings.datastore names it. */
async function makeWorkspace(sim: Vcsim) {
  const name = `ws-${randomBytes(4).toString('hex')}`;
  const dir = path.join(sim.datastore.dir, name);
  await fs.mkdir(dir);
  const root = `[${sim.datastore.name}] ${name}`;
  const file = (f: string): DiskRef => ({
    kind: 'file',
    path: path.join(dir, f),
    format: 'raw',
    datastore: datastorePath(root, f)!,
  });
  const disk = file('clone.img');
  const otherDisk = file('other.img');
  for (const d of [disk, otherDisk]) if (d.kind === 'file') await fs.writeFile(d.path, Buffer.alloc(1 << 20));
  return { dir, root, stateDir: path.join(dir, 'state'), disk, otherDisk, missingDisk: file('missing.img') };
}

describeMachineConformance("vsphere (vim25 SOAP against govmomi's vCenter simulator)", async () => {
  const sim = await vcsim();
  const ws = await makeWorkspace(sim);
  return {
    ...ws,
    driver: new VsphereMachineDriver({ stateDir: ws.stateDir, log: () => undefined }),
    machine: vmMachine(sim),
    offers: { console: true, identity: true },
    cleanup: () => fs.rm(ws.dir, { recursive: true, force: true }),
  };
});

describe('vsphere machine driver', () => {
  let sim: Vcsim;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: VsphereMachineDriver;
  let notes: string[];
  /** Reads a VM as the simulator holds it, in a session of the test's own. */
  const readVm = async (name: string) => {
    const client = await VimClient.login(
      { url: sim.url, username: sim.username, password: sim.password, requestTimeoutMs: 10_000, taskTimeoutMs: 10_000 },
      'the test',
    );
    try {
      const found = (await client.inventory('VirtualMachine', VM_PROPERTIES)).map(vmFacts).find((v) => v.name === name);
      const sessions = await client.properties([client.content.sessionManager], 'SessionManager', ['sessionList']);
      const open = sessions[0]?.props.get('sessionList');
      return { vm: found, sessions: typeof open === 'object' ? [open['UserSession']].flat().length : 0 };
    } finally {
      await client.logout();
    }
  };

  beforeEach(async () => {
    sim = await vcsim();
    ws = await makeWorkspace(sim);
    notes = [];
    driver = new VsphereMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
  });
  afterEach(() => fs.rm(ws.dir, { recursive: true, force: true }));

  it('clones the VM from its template, gives it the clone through a flat VMDK descriptor, and takes it away again', async () => {
    const machine = vmMachine(sim);
    await driver.attach(machine, ws.disk);
    const { vm } = await readVm(`encompass-${machine.id}`);
    expect(vm?.disks.map((d) => d.fileName)).toContain(`${ws.root}/clone.img.vmdk`);
    expect(vm?.attached).toMatchObject({ machine: machine.id, disk: ws.disk });
    const descriptor = await fs.readFile(path.join(ws.dir, 'clone.img.vmdk'), 'utf8');
    expect(descriptor).toContain('createType="monolithicFlat"');
    expect(descriptor).toContain('RW 2048 FLAT "clone.img-flat.vmdk" 0');
    const [image, extent] = await Promise.all(
      ['clone.img', 'clone.img-flat.vmdk'].map((f) => fs.stat(path.join(ws.dir, f))),
    );
    expect(extent!.ino).toBe(image!.ino);

    await driver.detach(machine);
    const after = await readVm(`encompass-${machine.id}`);
    expect(after.vm?.disks.map((d) => d.fileName)).not.toContain(`${ws.root}/clone.img.vmdk`);
    expect(after.vm?.attached).toBeUndefined();
    expect((await fs.readdir(ws.dir)).filter((f) => f !== 'state').sort()).toEqual(['clone.img', 'other.img']);
  });

  it('gives a VM cloned from the template MACs of its own, which its identity reports, and another clone others again', async () => {
    const first = vmMachine(sim);
    const second = vmMachine(sim);
    const before = (await readVm('DC0_H0_VM0')).vm!;
    await driver.attach(first, ws.disk);
    await driver.attach(second, ws.otherDisk);
    const template = (await readVm('DC0_H0_VM0')).vm!;
    // The template keeps its own MACs.
    expect(template.macs).toEqual(before.macs);
    const [a, b] = await Promise.all([first, second].map(async (m) => (await readVm(`encompass-${m.id}`)).vm!));
    const templateMacs = template.macs;
    expect(templateMacs.length, sim.stderr()).toBeGreaterThan(0);
    for (const clone of [a!, b!]) {
      // As many NICs as the template, on the same backing, each with a MAC the template does not have.
      expect(clone.macs).toHaveLength(templateMacs.length);
      for (const mac of clone.macs) expect(templateMacs).not.toContain(mac);
      expect(clone.nics.map((n) => one(n, 'backing'))).toEqual(template.nics.map((n) => one(n, 'backing')));
      expect(clone.nics.map((n) => text(one(n, 'addressType')))).toEqual(clone.macs.map(() => 'generated'));
    }
    for (const mac of a!.macs) expect(b!.macs).not.toContain(mac);
    expect((await driver.identity(first)).macs).toEqual(a!.macs);
    expect((await driver.identity(second)).macs).toEqual(b!.macs);
  });

  it('reports the BIOS UUID and normalized MACs of the VM, and finds the VM by that UUID alone', async () => {
    const named = vmMachine(sim, { vm: 'DC0_H0_VM1', template: undefined });
    const identity = await driver.identity(named);
    const { vm } = await readVm('DC0_H0_VM1');
    expect(identity).toEqual({ uuid: vm!.uuid, macs: vm!.macs });
    expect(identity.macs?.length).toBeGreaterThan(0);
    const byUuid = vmMachine(sim, { vm: undefined, template: undefined }, { uuid: identity.uuid!.toUpperCase() });
    expect(await driver.identity(byUuid)).toEqual(identity);
  });

  it('powers on and off with vCenter tasks and ends every session it opened', async () => {
    const machine = vmMachine(sim);
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect((await readVm(`encompass-${machine.id}`)).vm?.power).toBe('poweredOn');
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    const { vm, sessions } = await readVm(`encompass-${machine.id}`);
    expect(vm?.power).toBe('poweredOff');
    // Only the test's own session is open: every driver call logged out.
    expect(sessions).toBe(1);
  });

  /** config.bootOptions of a VM as the simulator's PropertyCollector returns it, read in a session of the test's own. */
  const readBootOrder = async (name: string) => {
    const client = await VimClient.login(
      { url: sim.url, username: sim.username, password: sim.password, requestTimeoutMs: 10_000, taskTimeoutMs: 10_000 },
      'the test',
    );
    try {
      const found = (await client.inventory('VirtualMachine', VM_PROPERTIES)).map(vmFacts).find((v) => v.name === name);
      const [content] = await client.properties([found!.ref], 'VirtualMachine', ['config.bootOptions']);
      return { vm: found!, order: all(content?.props.get('config.bootOptions'), 'bootOrder') };
    } finally {
      await client.logout();
    }
  };

  it('sets the boot order (the attached disk, then the first NIC) through ReconfigVM_Task, as config.bootOptions reads back', async () => {
    const machine = vmMachine(sim, { bootOrder: ['disk', 'network'] });
    await driver.attach(machine, ws.disk);
    const { vm, order } = await readBootOrder(`encompass-${machine.id}`);
    const diskKey = vm.disks.find((d) => d.fileName === `${ws.root}/clone.img.vmdk`)?.key;
    expect(diskKey).toBeDefined();
    expect(order.map((o) => [xsiType(o), Number(text(one(o, 'deviceKey')))])).toEqual([
      ['VirtualMachineBootOptionsBootableDiskDevice', diskKey],
      ['VirtualMachineBootOptionsBootableEthernetDevice', vm.nicKeys[0]],
    ]);

    const netFirst = vmMachine(sim, { bootOrder: 'network, disk' });
    await driver.attach(netFirst, ws.otherDisk);
    const second = await readBootOrder(`encompass-${netFirst.id}`);
    expect(second.order.map(xsiType)).toEqual([
      'VirtualMachineBootOptionsBootableEthernetDevice',
      'VirtualMachineBootOptionsBootableDiskDevice',
    ]);
  });

  it('refuses a boot order naming an unknown device before touching the VM', async () => {
    const machine = vmMachine(sim, { bootOrder: ['disk', 'cdrom'] });
    await expect(driver.attach(machine, ws.disk)).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.bootOrder',
      message: expect.stringMatching(/"cdrom"[\s\S]*'disk'[\s\S]*'network'/),
    });
    expect((await readVm(`encompass-${machine.id}`)).vm).toBeUndefined();
  });

  it('says the login was refused on a wrong password, without showing it', async () => {
    const machine = { ...vmMachine(sim), credentials: { username: sim.username, password: 'wrong-horse-battery' } };
    const err = await driver.status(machine).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'VsphereLoginError', code: 'vsphere_login_refused', username: sim.username });
    expect((err as Error).message).not.toContain('wrong-horse-battery');
  });

  it('refuses a disk with no datastore path, a qcow2 image and an iSCSI LUN, saying what to change', async () => {
    const machine = vmMachine(sim);
    if (ws.disk.kind !== 'file') throw new Error('a file disk');
    const { datastore: _none, ...bare } = ws.disk;
    await expect(driver.attach(machine, bare)).rejects.toMatchObject({
      code: 'vsphere_disk_unusable',
      message: expect.stringMatching(/settings\.datastore/),
    });
    await expect(driver.attach(machine, { ...ws.disk, format: 'qcow2' })).rejects.toMatchObject({
      code: 'vsphere_disk_unusable',
      message: expect.stringMatching(/cannot read a qcow2 image/),
    });
    const lun: DiskRef = {
      kind: 'iscsi',
      portal: '127.0.0.1:3260',
      target: 'iqn.2026-12.test:x',
      lun: 1,
      format: 'raw',
    };
    await expect(driver.attach(machine, lun)).rejects.toMatchObject({ code: 'vsphere_disk_unusable' });
    expect((await driver.status(machine)).disk).toBeUndefined();
  });

  it("leaves alone a VM that holds another machine's clone", async () => {
    const first = vmMachine(sim);
    await driver.attach(first, ws.disk);
    const second = { ...vmMachine(sim), settings: first.settings };
    await expect(driver.status(second)).rejects.toMatchObject({ name: 'VmNotManagedError', code: 'vm_not_managed' });
    await expect(driver.attach(second, ws.otherDisk)).rejects.toMatchObject({ code: 'vm_not_managed' });
  });

  it('names a VM that is not there and has no template to be made from', async () => {
    await expect(driver.status(vmMachine(sim, { template: undefined }))).rejects.toMatchObject({
      name: 'VmNotFoundError',
      code: 'vm_not_found',
    });
  });
});
