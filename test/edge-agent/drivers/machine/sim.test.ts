import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { SimMachineDriver } from '../../../../edge-agent/drivers/machine/sim';
import { describeMachineConformance } from './machine.case';

function machineRef(id: string, settings: Record<string, unknown> = {}): MachineRef {
  return { id, name: `sim ${id}`, kind: 'sim', identity: { macs: ['52:54:00:00:00:01'] }, settings };
}

async function makeWorkspace() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-sim-'));
  const stateDir = path.join(dir, 'state');
  const disk: DiskRef = { kind: 'file', path: path.join(dir, 'disk.img'), format: 'raw' };
  const otherDisk: DiskRef = { kind: 'file', path: path.join(dir, 'other.qcow2'), format: 'qcow2' };
  await fs.writeFile(disk.path, Buffer.alloc(4096));
  await fs.writeFile(otherDisk.path, Buffer.alloc(4096));
  return { dir, stateDir, disk, otherDisk, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

describeMachineConformance('sim', async () => {
  const ws = await makeWorkspace();
  return {
    ...ws,
    driver: new SimMachineDriver({ stateDir: ws.stateDir }),
    machine: machineRef('m-conformance'),
    offers: { console: true, identity: false },
    missingDisk: { kind: 'file', path: path.join(ws.dir, 'missing.img'), format: 'raw' },
  };
});

describe('sim machine driver', () => {
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: SimMachineDriver;
  const machine = machineRef('m-1');

  beforeEach(async () => {
    ws = await makeWorkspace();
    driver = new SimMachineDriver({ stateDir: ws.stateDir });
  });
  afterEach(async () => ws.cleanup());

  it('keeps its state across a new driver instance on the same state directory', async () => {
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    const restarted = new SimMachineDriver({ stateDir: ws.stateDir });
    expect(await restarted.status(machine)).toEqual({ power: 'on', disk: ws.disk, bootCount: 1 });
    expect(await fs.readdir(ws.stateDir)).toEqual(['sim-m-1.json']);
  });

  it('counts every boot and records when the last one happened', async () => {
    await driver.attach(machine, ws.disk);
    for (let boot = 1; boot <= 3; boot++) {
      const startedAt = Date.now();
      expect((await driver.powerOn(machine)).bootCount).toBe(boot);
      const { lastBootAt } = await driver.records.read(machine);
      expect(Date.parse(lastBootAt ?? '')).toBeGreaterThanOrEqual(startedAt - 1000);
      await driver.powerOff(machine);
    }
    expect((await driver.status(machine)).bootCount).toBe(3);
  });

  it('fails to boot when settings.failBoot is true, staying off without counting a boot', async () => {
    const failing = machineRef('m-fail', { failBoot: true });
    await driver.attach(failing, ws.disk);
    await expect(driver.powerOn(failing)).rejects.toMatchObject({
      name: 'BootFailedError',
      code: 'boot_failed',
      diskPath: ws.disk.path,
    });
    expect(await driver.status(failing)).toEqual({ power: 'off', disk: ws.disk, bootCount: 0 });
    await driver.detach(failing);
  });

  it('keeps a machine id with slashes inside the state directory', async () => {
    const odd = machineRef('../../escape/m');
    await driver.attach(odd, ws.disk);
    expect(path.dirname(driver.records.pathOf(odd))).toBe(ws.stateDir);
    expect(await fs.readdir(ws.stateDir)).toEqual([path.basename(driver.records.pathOf(odd))]);
  });

  it('reports an unreadable state file as MachineStateError', async () => {
    await fs.mkdir(ws.stateDir, { recursive: true });
    await fs.writeFile(driver.records.pathOf(machine), '{ not json');
    await expect(driver.status(machine)).rejects.toMatchObject({
      name: 'MachineStateError',
      code: 'machine_state_unreadable',
    });
  });
});
