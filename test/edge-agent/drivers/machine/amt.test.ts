/** The amt driver over WS-Management with HTTP Digest, against a WS-Man service in the tests that mocks AMT. */
import { promises as fs } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { platformGuid } from '../../../../edge-agent/drivers/machine/amt/amt';
import { digestAuthorization, parseChallenge } from '../../../../edge-agent/drivers/machine/amt/digest';
import { AmtMachineDriver } from '../../../../edge-agent/drivers/machine/amt/driver';
import type { MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { type AmtMock, startAmtMock } from '../../../support/amt/wsman-mock';
import { describeMachineConformance, machineWorkspace } from './machine.case';

let mockStarting: Promise<AmtMock> | undefined;
const mock = () => {
  mockStarting ??= startAmtMock();
  return mockStarting;
};
afterAll(async () => (await mockStarting)?.stop());

function amtMachine(m: AmtMock, settings: Record<string, unknown> = {}, password = m.password): MachineRef {
  return {
    id: 'nuc-1',
    name: 'nuc 1',
    kind: 'amt',
    identity: {},
    settings: { host: m.host, port: m.port, shutdownGraceSeconds: 2, powerConfirmSeconds: 5, ...settings },
    credentials: { user: m.user, password },
  };
}

const makeWorkspace = () => machineWorkspace('amt', 'file');

describeMachineConformance('amt (WS-Man with digest authentication, against a mock WS-Man service)', async () => {
  const m = await mock();
  const ws = await makeWorkspace();
  const driver = new AmtMachineDriver({ stateDir: ws.stateDir, log: () => {} });
  const machine = amtMachine(m);
  await driver.powerOff(machine);
  return {
    ...ws,
    driver,
    machine,
    offers: { console: true, identity: true },
    cleanup: async () => {
      await driver.powerOff(machine);
      await fs.rm(ws.dir, { recursive: true, force: true });
    },
  };
});

describe('amt machine driver (mock WS-Man service)', () => {
  let m: AmtMock;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let notes: string[];
  let driver: AmtMachineDriver;

  beforeAll(async () => {
    m = await mock();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    notes = [];
    driver = new AmtMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
    delete m.state.refuseGraceful;
  });
  afterEach(async () => {
    await driver.powerOff(amtMachine(m));
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('powers on with RequestPowerStateChange 2 and shuts down gracefully with 12', async () => {
    const machine = amtMachine(m);
    m.state.requests.length = 0;
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toMatchObject({ power: 'on', booted: true });
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(m.state.requests).toEqual([2, 12]);
  });

  it('forces the machine off with 8 when the firmware refuses a graceful shutdown, noting it', async () => {
    const machine = amtMachine(m);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    m.state.refuseGraceful = 1;
    m.state.requests.length = 0;
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(m.state.requests).toEqual([12, 8]);
    expect(notes.join('\n')).toMatch(/refused a graceful shutdown \(ReturnValue 1\); forcing power off/);
  });

  it('sets the next boot through ChangeBootOrder (PXE) or AMT_BootSettingData (IDE-R) before power on', async () => {
    await driver.attach(amtMachine(m), ws.disk);
    await driver.powerOn(amtMachine(m, { bootDevice: 'pxe' }));
    expect(m.state.bootSource).toBe('Intel(r) AMT: Force PXE Boot');
    expect(m.state.bootSettings).toMatchObject({ UseIDER: 'false' });
    await driver.powerOff(amtMachine(m));
    await driver.powerOn(amtMachine(m, { bootDevice: 'ider' }));
    expect(m.state.bootSource).toBeUndefined();
    expect(m.state.bootSettings).toMatchObject({ UseIDER: 'true', IDERBootDevice: '1' });
  });

  it('reports PlatformGUID as the OS shows it, the chassis serial and the port MACs normalized from dashes', async () => {
    expect(await driver.identity(amtMachine(m))).toEqual({
      uuid: m.uuid,
      serial: m.serial,
      macs: ['00:1b:21:3c:4d:5e', '00:1b:21:3c:4d:5f'],
    });
  });

  it('says AMT refused the user when the digest of a wrong password fails, without showing it', async () => {
    const before = m.state.refused;
    const err = (await driver.status(amtMachine(m, {}, 'not-the-password')).catch((e: Error) => e)) as Error;
    expect(err).toMatchObject({ name: 'AmtUnauthorizedError', code: 'amt_unauthorized', user: 'admin' });
    expect(err.message).not.toContain('not-the-password');
    expect(m.state.refused).toBe(before + 1);
  });

  it('names an unreachable service and a missing password', async () => {
    await expect(driver.status(amtMachine(m, { port: 1, requestTimeoutSeconds: 2 }))).rejects.toMatchObject({
      code: 'amt_unreachable',
    });
    await expect(driver.status({ ...amtMachine(m), credentials: {} })).rejects.toMatchObject({
      code: 'missing_credentials',
    });
    await expect(driver.status(amtMachine(m, { tls: 'yes' }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.tls',
    });
  });
});

describe('digest authentication and AMT identity helpers', () => {
  it('computes the RFC 2617 example response for qop=auth', () => {
    const c = parseChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(c).toMatchObject({ realm: 'testrealm@host.com', qop: 'auth', algorithm: 'MD5' });
    const header = digestAuthorization(c!, 'Mufasa', 'Circle Of Life', 'GET', '/dir/index.html', 1, '0a4f113b');
    expect(header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(header).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    expect(header).not.toContain('Circle Of Life');
  });

  it('turns AMT byte-order PlatformGUIDs into the UUID the OS shows', () => {
    expect(platformGuid('4B0C3E8A1D6F2A4E9B7C1D2E3F405162')).toBe('8a3e0c4b-6f1d-4e2a-9b7c-1d2e3f405162');
    expect(platformGuid('not a guid')).toBeUndefined();
  });
});
