import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { RedfishMachineDriver } from '../../../../edge-agent/drivers/machine/redfish/driver';
import { freeTcpPort } from '../../../support/machines-host';
import { type RedfishSim, type SimSystemOptions, startRedfishSim } from '../../../support/machines-redfish';
import { describeMachineConformance, machineWorkspace } from './machine.case';

const BLADE: SimSystemOptions = {
  id: 'Blade1',
  uuid: '8A3E0C4B-6F1D-4E2A-9B7C-1D2E3F405162',
  serial: 'CZ-2041-0007',
  macs: ['52:54:00:AB:CD:01', '52-54-00-AB-CD-02'],
};

function machineFor(
  sim: RedfishSim,
  settings: Record<string, unknown> = {},
  identity: MachineRef['identity'] = {},
): MachineRef {
  return {
    id: 'rf-1',
    name: 'redfish blade',
    kind: 'redfish',
    identity,
    settings: { endpoint: sim.endpoint, shutdownGraceSeconds: 1, ...settings },
    credentials: { username: sim.username, password: sim.password },
  };
}

const makeWorkspace = () => machineWorkspace('redfish', 'iscsi');

describeMachineConformance('redfish (a Redfish service over HTTP)', async () => {
  const ws = await makeWorkspace();
  const sim = await startRedfishSim({ systems: [BLADE] });
  return {
    ...ws,
    driver: new RedfishMachineDriver({ stateDir: ws.stateDir, log: () => undefined }),
    machine: machineFor(sim),
    offers: { console: true, identity: true },
    cleanup: async () => {
      await sim.stop();
      await fs.rm(ws.dir, { recursive: true, force: true });
    },
  };
});

describe('redfish machine driver', () => {
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let sim: RedfishSim;
  let notes: string[];
  let driver: RedfishMachineDriver;
  const start = async (systems: SimSystemOptions[] = [BLADE]) => {
    sim = await startRedfishSim({ systems });
    return sim;
  };

  beforeEach(async () => {
    ws = await makeWorkspace();
    notes = [];
    driver = new RedfishMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
  });
  afterEach(async () => {
    await sim?.stop();
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('reports the UUID, serial number and normalized MACs of the system as its identity', async () => {
    await start();
    expect(await driver.identity(machineFor(sim))).toEqual({
      uuid: '8a3e0c4b-6f1d-4e2a-9b7c-1d2e3f405162',
      serial: 'CZ-2041-0007',
      macs: ['52:54:00:ab:cd:01', '52:54:00:ab:cd:02'],
    });
  });

  it('sets a one-time boot from the disk before powering on, signing every request in with Basic auth', async () => {
    await start();
    const machine = machineFor(sim);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    const writes = sim.requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => [r.method, r.body])).toEqual([
      ['PATCH', { Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Once' } }],
      ['POST', { ResetType: 'On' }],
    ]);
    expect(sim.systems.get('Blade1')?.bootedFrom).toEqual(['Hdd']);
    const basic = `Basic ${Buffer.from(`${sim.username}:${sim.password}`).toString('base64')}`;
    expect(sim.requests.filter((r) => r.path !== '/redfish/v1').every((r) => r.authorization === basic)).toBe(true);
    expect(sim.requests.some((r) => r.path.includes(sim.password))).toBe(false);
  });

  it('shuts down gracefully, and forces power off when the OS ignores it for the grace period', async () => {
    await start([{ ...BLADE, ignoresGracefulShutdown: true }]);
    const machine = machineFor(sim);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    const resets = sim.requests
      .filter((r) => r.method === 'POST')
      .map((r) => (r.body as { ResetType: string }).ResetType);
    expect(resets).toEqual(['On', 'GracefulShutdown', 'ForceOff']);
    expect(notes.join('\n')).toMatch(/no clean shutdown within 1 s; forcing power off/);
  });

  it('powers off with a graceful shutdown alone when the OS honours it', async () => {
    await start();
    const machine = machineFor(sim);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    await driver.powerOff(machine);
    const resets = sim.requests
      .filter((r) => r.method === 'POST')
      .map((r) => (r.body as { ResetType: string }).ResetType);
    expect(resets).toEqual(['On', 'GracefulShutdown']);
  });

  it('boots in the configured order, noting it, when the BMC offers no disk boot override', async () => {
    await start([{ ...BLADE, bootTargets: ['None', 'Pxe'] }]);
    const machine = machineFor(sim);
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect(sim.systems.get('Blade1')?.bootedFrom).toEqual(['Default']);
    expect(notes.join('\n')).toMatch(/offers no boot override to Hdd/);
  });

  it('waits for the boot marker on the console log when one is configured', async () => {
    const consoleLog = path.join(ws.dir, 'console.log');
    await start([{ ...BLADE, consoleLog }]);
    const machine = machineFor(sim, { consoleLog, bootTimeoutSeconds: 10 });
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect(await fs.readFile(consoleLog, 'utf8')).toContain('ENCOMPASS-BOOTED');
  });

  it('finds its system among several by a MAC written differently, or by settings.systemId', async () => {
    const other = {
      id: 'Blade0',
      uuid: '00000000-1111-4222-8333-444444444444',
      serial: 'CZ-0',
      macs: ['52:54:00:00:00:99'],
    };
    await start([other, BLADE]);
    const byMac = machineFor(sim, {}, { macs: ['52:54:00:ab:cd:02'] });
    expect((await driver.identity(byMac)).serial).toBe('CZ-2041-0007');
    expect((await driver.identity(machineFor(sim, { systemId: 'Blade0' }))).serial).toBe('CZ-0');
    await expect(driver.status(machineFor(sim, {}, { macs: ['aa:bb:cc:dd:ee:ff'] }))).rejects.toMatchObject({
      name: 'RedfishSystemNotFoundError',
      code: 'redfish_system_not_found',
      candidates: ['/redfish/v1/Systems/Blade0', '/redfish/v1/Systems/Blade1'],
    });
  });

  it('says the credentials were refused on a wrong password, without showing it', async () => {
    await start();
    const machine = { ...machineFor(sim), credentials: { username: sim.username, password: 'wrong-horse-battery' } };
    const err = await driver.status(machine).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'RedfishUnauthorizedError', code: 'redfish_unauthorized', status: 401 });
    expect((err as Error).message).not.toContain('wrong-horse-battery');
  });

  it('asks for missing credentials and names a bad endpoint before calling the BMC', async () => {
    await start();
    await expect(driver.status({ ...machineFor(sim), credentials: { username: 'admin' } })).rejects.toMatchObject({
      code: 'missing_credentials',
      missing: ['credentials.password'],
    });
    await expect(driver.status(machineFor(sim, { endpoint: 'ftp://bmc' }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.endpoint',
    });
    await expect(driver.status(machineFor(sim, { endpoint: 'https://root:pw@bmc' }))).rejects.toMatchObject({
      code: 'invalid_settings',
    });
  });

  it('reports a BMC that does not answer as unreachable', async () => {
    await start();
    const machine = machineFor(sim, { endpoint: `http://127.0.0.1:${await freeTcpPort()}` });
    await expect(driver.status(machine)).rejects.toMatchObject({
      name: 'RedfishUnreachableError',
      code: 'redfish_unreachable',
    });
  });
});
