import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BladeCenterMachineDriver } from '../../../../edge-agent/drivers/machine/bladecenter/driver';
import type { DiskRef, MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { type Amm, markerStart, qemuStart, snmpgetV3, startAmm } from '../../../support/bladecenter/amm';
import { bootKernel, makeBootableRoot } from '../../../support/bootable';
import { describeMachineConformance, machineWorkspace, offMachineFixture } from './machine.case';

/** One chassis (real snmpd, the test's pass script) for the whole file; each test starts with its blades off. */
let ammStarting: Promise<Amm> | undefined;
const chassis = () => {
  ammStarting ??= startAmm({ slots: [1, 2, 5] });
  return ammStarting;
};
afterAll(async () => (await ammStarting)?.stop());

function blade(
  a: Amm,
  slot = 1,
  settings: Record<string, unknown> = {},
  credentials?: Record<string, string>,
): MachineRef {
  return {
    id: `blade-${slot}`,
    name: `blade ${slot}`,
    kind: 'bladecenter',
    identity: {},
    settings: {
      amm: a.host,
      snmpPort: a.port,
      slot,
      consoleLog: a.consoleOf(slot),
      bootTimeoutSeconds: 10,
      shutdownGraceSeconds: 2,
      powerConfirmSeconds: 10,
      ...settings,
    },
    credentials: credentials ?? { community: a.community },
  };
}

const makeWorkspace = () => machineWorkspace('blade', 'iscsi');

describeMachineConformance('bladecenter (real snmpd serving the AMM MIB from a test pass script)', async () => {
  const a = await chassis();
  const ws = await makeWorkspace();
  const driver = new BladeCenterMachineDriver({ stateDir: ws.stateDir, log: () => {} });
  const machine = blade(a);
  return offMachineFixture(ws, driver, machine);
});

describe('bladecenter machine driver over SNMP', () => {
  let a: Amm;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let notes: string[];
  let driver: BladeCenterMachineDriver;

  beforeAll(async () => {
    a = await chassis();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    notes = [];
    driver = new BladeCenterMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
  });
  afterEach(async () => {
    for (const slot of [1, 2]) await driver.powerOff(blade(a, slot));
    await a.updateBlade(2, { start: markerStart() });
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it("reports the blade's VPD serial and its MACs, normalized, as the identity", async () => {
    expect(await driver.identity(blade(a, 2))).toEqual({
      serial: '99B0002',
      macs: ['00:1a:64:76:02:10', '00:1a:64:76:02:11'],
    });
  });

  it('says a wrong community may be why the AMM is silent, naming the AMM, without showing the community', async () => {
    const machine = blade(a, 1, { timeoutSeconds: 1, retries: 0 }, { community: 'not-the-community' });
    const err = (await driver.status(machine).catch((e: Error) => e)) as Error & { code: string; amm: string };
    expect(err).toMatchObject({ name: 'AmmUnreachableError', code: 'amm_unreachable', amm: `127.0.0.1:${a.port}` });
    expect(err.message).toMatch(/credentials\.community/);
    expect(err.message).not.toContain('not-the-community');
    expect(err.message).not.toContain(a.community);
  });

  it('powers a blade with an SNMPv3 user (authPriv), and refuses a wrong v3 password with a clear error', async () => {
    const v3 = { user: a.v3.user, password: a.v3.password, privPassword: a.v3.privPassword };
    const machine = blade(a, 1, { consoleLog: '' }, v3);
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect((await a.chassis()).blades['1']?.pid).toBeGreaterThan(0);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    const wrong = blade(a, 1, { timeoutSeconds: 1, retries: 0 }, { ...v3, password: 'wrong-password' });
    const err = (await driver.status(wrong).catch((e: Error) => e)) as Error;
    expect(err).toMatchObject({ name: 'AmmRefusedError', code: 'amm_refused' });
    expect(err.message).toMatch(/Wrong Digest/);
    expect(err.message).not.toContain('wrong-password');
  });

  it('names the empty slot when a machine points at one', async () => {
    await expect(driver.status(blade(a, 3))).rejects.toMatchObject({
      name: 'BladeNotPresentError',
      code: 'blade_not_present',
      slot: 3,
    });
  });

  it('puts the boot device of its settings first in the blade boot sequence before power on', async () => {
    const machine = blade(a, 2, { bootDevice: 'iscsi' });
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect((await a.chassis()).blades['2']?.bootSequence[0]).toBe(8);
    await driver.powerOff(machine);
    await driver.powerOn(blade(a, 2, { bootDevice: 'net' }));
    expect((await a.chassis()).blades['2']?.bootSequence[0]).toBe(7);
  });

  it('forces the blade off at once, noting that SNMP has no clean shutdown', async () => {
    const machine = blade(a, 1);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(notes.join('\n')).toMatch(/no clean shutdown; forcing power off/);
  });

  it('names the setting that is wrong', async () => {
    await expect(driver.status(blade(a, 1, { slot: 15 }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.slot',
    });
    await expect(driver.status(blade(a, 1, { amm: undefined }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.amm',
    });
    await expect(driver.status(blade(a, 1, {}, {}))).rejects.toMatchObject({ code: 'missing_credentials' });
  });

  it('boots the blade disk in a real qemu at power on and ends it at power off', async () => {
    const { kernel, initrd } = bootKernel();
    const disk: DiskRef = { kind: 'file', path: path.join(ws.dir, 'root.img'), format: 'raw' };
    await makeBootableRoot(disk.path, { sizeMiB: 24 });
    // What the blade's firmware boots is its owner's setting, as on the fabric: here, the attached file.
    await a.updateBlade(2, { start: qemuStart({ disk: disk.path, kernel, initrd }) });
    const machine = blade(a, 2, { bootTimeoutSeconds: 120 });
    await driver.attach(machine, disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    const pid = (await a.chassis()).blades['2']?.pid;
    expect(await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).toContain('qemu-system-x86_64');
    expect(await driver.console(machine)).toMatch(/ENCOMPASS-HOSTNAME: template/);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    // SIGKILL has been sent to the blade's process group; the kernel ends qemu a moment later.
    const state = () =>
      fs
        .readFile(`/proc/${pid}/stat`, 'utf8')
        .then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3))
        .catch(() => 'gone');
    let last = await state();
    for (let i = 0; i < 100 && !/^(gone|Z|X)$/.test(last); i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = await state();
    }
    expect(last).toMatch(/^(gone|Z|X)$/);
  }, 180_000);
});

describe('bladecenter machine driver over SNMPv3 authPriv (SHA + AES; its own snmpd, whose user needs privacy)', () => {
  const V3 = { user: 'encompass-priv', authPassword: 'auth-pass-0123', privPassword: 'priv-pass-4567' };
  const POWER_STATE_1 = '.1.3.6.1.4.1.2.3.51.2.22.1.5.1.1.4.1';
  let a: Amm;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: BladeCenterMachineDriver;
  const v3Blade = (slot: number, credentials: Record<string, string> = {}, settings: Record<string, unknown> = {}) =>
    blade(
      a,
      slot,
      { snmpVersion: '3', ...settings },
      {
        user: V3.user,
        password: V3.authPassword,
        privPassword: V3.privPassword,
        ...credentials,
      },
    );

  beforeAll(async () => {
    a = await startAmm({ slots: [1, 3], v3: V3 });
  });
  afterAll(async () => a?.stop());
  beforeEach(async () => {
    ws = await makeWorkspace();
    driver = new BladeCenterMachineDriver({ stateDir: ws.stateDir, log: () => {} });
  });
  afterEach(async () => {
    await driver.powerOff(v3Blade(1));
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it("serves the user with authPriv only, as Net-SNMP's own snmpget confirms", async () => {
    expect(await snmpgetV3(a, POWER_STATE_1, { level: 'authPriv' })).toMatch(/INTEGER: 0/);
    expect(await snmpgetV3(a, POWER_STATE_1, { level: 'authNoPriv' })).not.toMatch(/INTEGER/);
    expect(await snmpgetV3(a, POWER_STATE_1, { level: 'authPriv', privPassword: 'not-the-priv' })).not.toMatch(
      /INTEGER/,
    );
  });

  it('powers the blade on and off, reads its status and its identity', async () => {
    const machine = v3Blade(1);
    expect(await driver.status(machine)).toMatchObject({ power: 'off' });
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
    expect((await a.chassis()).blades['1']?.pid).toBeGreaterThan(0);
    expect(await driver.status(machine)).toMatchObject({ power: 'on' });
    expect(await snmpgetV3(a, POWER_STATE_1, { level: 'authPriv' })).toMatch(/INTEGER: 1/);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(await driver.status(machine)).toMatchObject({ power: 'off' });
    expect(await driver.identity(v3Blade(3))).toEqual({
      serial: '99B0003',
      macs: ['00:1a:64:76:03:10', '00:1a:64:76:03:11'],
    });
  });

  it('refuses a wrong auth password with a coded error naming the password to check, without the password', async () => {
    const machine = v3Blade(1, { password: 'not-the-auth-pass' }, { timeoutSeconds: 2, retries: 0 });
    const err = (await driver.status(machine).catch((e: Error) => e)) as Error & { code: string };
    expect(err).toMatchObject({ name: 'AmmRefusedError', code: 'amm_refused', amm: `127.0.0.1:${a.port}` });
    expect(err.message).toMatch(/Wrong Digest.*credentials\.password .*settings\.authProtocol \(SHA here\)/);
    expect(err.message).not.toContain('not-the-auth-pass');
    expect(err.message).not.toContain(V3.privPassword);
  });

  it('fails a wrong privacy password with a coded error naming the privacy password to check, without it', async () => {
    const machine = v3Blade(1, { privPassword: 'not-the-priv-pass' }, { timeoutSeconds: 2, retries: 0 });
    const err = (await driver.status(machine).catch((e: Error) => e)) as Error & { code: string };
    // The agent cannot decrypt the request, so it does not answer: the error comes after the timeout.
    expect(err).toMatchObject({ name: 'AmmUnreachableError', code: 'amm_unreachable', seconds: 2 });
    expect(err.message).toMatch(/credentials\.privPassword and settings\.privProtocol \(AES here\)/);
    expect(err.message).not.toContain('not-the-priv-pass');
    expect(err.message).not.toContain(V3.authPassword);
  });

  it('fails a user that needs privacy asked without a privacy password, naming credentials.privPassword', async () => {
    const machine = blade(a, 1, { timeoutSeconds: 2, retries: 0 }, { user: V3.user, password: V3.authPassword });
    const err = (await driver.status(machine).catch((e: Error) => e)) as Error & { code: string };
    expect(err).toMatchObject({ name: 'AmmRefusedError', code: 'amm_refused' });
    expect(err.message).toMatch(/Set credentials\.privPassword/);
  });
});
