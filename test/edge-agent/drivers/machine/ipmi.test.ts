import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markConsole, waitForMarker } from '../../../../edge-agent/drivers/machine/common/console-watch';
import { normalizeMac, normalizeUuid } from '../../../../edge-agent/drivers/machine/common/identity';
import { hasIdentity, type MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { IpmiMachineDriver } from '../../../../edge-agent/drivers/machine/ipmi/driver';
import { ipmiConnection, ipmitoolArgs } from '../../../../edge-agent/drivers/machine/ipmi/ipmitool';
import { freeUdpPort } from '../../../support/machines-host';
import { type IpmiSimBlade, startIpmiSim } from '../../../support/machines-ipmi-sim';
import { describeMachineConformance, machineWorkspace, offMachineFixture } from './machine.case';

const run = promisify(execFile);

/** One simulated BMC for the whole file; each test gets its own state directory and starts powered off. */
let simStarting: Promise<IpmiSimBlade> | undefined;
const sim = () => {
  simStarting ??= startIpmiSim({ serial: 'SN-ENC-0042', uuid: '4f1c2d3e-5a6b-4c7d-8e9f-a0b1c2d3e4f5' });
  return simStarting;
};
afterAll(async () => (await simStarting)?.stop());

function bladeMachine(b: IpmiSimBlade, settings: Record<string, unknown> = {}, password = b.password): MachineRef {
  return {
    id: 'blade-1',
    name: 'blade 1',
    kind: 'ipmi',
    identity: {},
    settings: {
      host: b.host,
      port: b.port,
      user: b.user,
      consoleLog: b.consoleLog,
      shutdownGraceSeconds: 2,
      bootTimeoutSeconds: 10,
      ...settings,
    },
    credentials: { password },
  };
}

const makeWorkspace = () => machineWorkspace('ipmi', 'iscsi');

describeMachineConformance('ipmi (ipmi_sim over lanplus, boot marker on the console log)', async () => {
  const b = await sim();
  await b.failBoots(false);
  const ws = await makeWorkspace();
  const notes: string[] = [];
  const driver = new IpmiMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
  const machine = bladeMachine(b);
  return offMachineFixture(ws, driver, machine);
});

describe('ipmi machine driver', () => {
  let b: IpmiSimBlade;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let notes: string[];
  let driver: IpmiMachineDriver;

  beforeAll(async () => {
    b = await sim();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    notes = [];
    driver = new IpmiMachineDriver({ stateDir: ws.stateDir, log: (l) => notes.push(l) });
    await b.failBoots(false);
    await driver.powerOff(bladeMachine(b));
  });
  afterEach(async () => {
    await driver.powerOff(bladeMachine(b));
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('reports the GUID and the FRU board serial the BMC holds as the identity', async () => {
    expect(hasIdentity(driver)).toBe(true);
    expect(await driver.identity(bladeMachine(b))).toEqual({ uuid: b.uuid, serial: 'SN-ENC-0042' });
  });

  it('passes the password through the environment (-E), never as an argument', () => {
    const args = ipmitoolArgs(ipmiConnection(bladeMachine(b)), ['chassis', 'power', 'status']);
    expect(args).toContain('-E');
    expect(args).not.toContain('-P');
    expect(args.join(' ')).not.toContain(b.password);
    expect(args).toEqual([
      '-I',
      'lanplus',
      '-C',
      '3',
      '-H',
      '127.0.0.1',
      '-p',
      String(b.port),
      '-U',
      b.user,
      '-E',
      'chassis',
      'power',
      'status',
    ]);
  });

  it('never shows the password in the process list while ipmitool waits for a BMC', async () => {
    // A port nothing answers on keeps ipmitool running long enough for ps to see it.
    const silent = bladeMachine(b, { port: await freeUdpPort(), timeoutSeconds: 1, retries: 1 });
    const call = driver.status(silent).then(
      () => undefined,
      (err: Error) => err,
    );
    let settled = false;
    void call.then(() => {
      settled = true;
    });
    const seen: string[] = [];
    while (!settled) {
      const { stdout } = await run('ps', ['-eo', 'args']);
      seen.push(
        ...stdout.split('\n').filter((l) => l.startsWith('ipmitool ') && l.includes(String(silent.settings['port']))),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const err = await call;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((l) => l.includes(' -E') && !l.includes(b.password))).toBe(true);
    expect(err).toMatchObject({ name: 'IpmiCommandError', code: 'ipmi_command_failed' });
    expect(err?.message).toMatch(/user name and password/);
    expect(`${err?.message} ${notes.join('\n')}`).not.toContain(b.password);
  });

  it('boots without a console log once the BMC confirms power on', async () => {
    const machine = bladeMachine(b, { consoleLog: '' });
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: 1 });
  });

  it('goes on booting when the BMC refuses the boot device, noting it', async () => {
    const machine = bladeMachine(b);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect(notes.join('\n')).toMatch(/refused "chassis bootdev disk"/);
  });

  it('forces power off when the BMC refuses a soft shutdown', async () => {
    const machine = bladeMachine(b);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(notes.join('\n')).toMatch(/refused a soft shutdown.*forcing power off/);
    expect((await driver.status(machine)).power).toBe('off');
  });

  it('fails a boot whose console never shows the marker, ignoring a marker from an earlier boot, and leaves the blade off', async () => {
    const machine = bladeMachine(b, { bootTimeoutSeconds: 3 });
    await fs.appendFile(b.consoleLog, 'ENCOMPASS-BOOTED (from an earlier boot)\n');
    await b.failBoots(true);
    await driver.attach(machine, ws.disk);
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'BootFailedError',
      code: 'boot_failed',
      diskPath: ws.disk.path,
    });
    expect(await driver.status(machine)).toEqual({ power: 'off', disk: ws.disk, bootCount: 0 });
  });

  it("shows on its console what this power-on printed, not an earlier boot's output", async () => {
    const machine = bladeMachine(b);
    await fs.appendFile(b.consoleLog, 'output of an earlier boot\n');
    await b.failBoots(false);
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    const text = await driver.console(machine);
    expect(text).toContain('ENCOMPASS-BOOTED');
    expect(text).not.toContain('an earlier boot');
    await driver.powerOff(machine);
    await expect(driver.console(bladeMachine(b, { consoleLog: '' }))).rejects.toMatchObject({ code: 'no_console' });
  });

  it('says which BMC refused the sign-in when the password is wrong, without showing it', async () => {
    const machine = bladeMachine(b, {}, 'not-the-password');
    const err = await driver.status(machine).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ipmi_command_failed', bmc: `${b.host}:${b.port}` });
    expect(String((err as Error).message)).not.toContain('not-the-password');
  });

  it('asks for the password before calling the BMC when the credentials lack one', async () => {
    const machine = { ...bladeMachine(b), credentials: {} };
    await expect(driver.powerOn(machine)).rejects.toMatchObject({
      name: 'IpmiCredentialsMissingError',
      code: 'missing_credentials',
    });
  });

  it('signs in as credentials.user when the settings name no user (a discovered blade), settings.user first otherwise', async () => {
    const discovered = bladeMachine(b, { user: undefined });
    discovered.credentials = { user: b.user, password: b.password };
    expect(ipmiConnection(discovered).user).toBe(b.user);
    expect(await driver.status(discovered)).toMatchObject({ power: 'off' });
    const both = bladeMachine(b);
    both.credentials = { user: 'someone-else', password: b.password };
    expect(ipmiConnection(both).user).toBe(b.user);
    const neither = bladeMachine(b, { user: undefined });
    expect(() => ipmiConnection(neither)).toThrow(
      expect.objectContaining({ code: 'invalid_settings', key: 'settings.user' }),
    );
  });

  it('names the setting that is wrong', async () => {
    await expect(driver.status(bladeMachine(b, { host: undefined }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.host',
    });
    await expect(driver.powerOn(bladeMachine(b, { bootMarker: '(' }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.bootMarker',
    });
  });
});

describe('machine identity and console helpers', () => {
  it('normalizes MAC addresses to lower case with colons, whatever the separators', () => {
    for (const mac of ['52:54:00:AB:CD:EF', '52-54-00-ab-cd-ef', '5254.00ab.cdef', '525400ABCDEF'])
      expect(normalizeMac(mac)).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('not a mac')).toBe('not a mac');
    expect(normalizeUuid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(normalizeUuid('8A3E0C4B6F1D4E2A9B7C1D2E3F405162')).toBe('8a3e0c4b-6f1d-4e2a-9b7c-1d2e3f405162');
  });

  it('reads a console log that was replaced since the mark from its start', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-console-'));
    try {
      const log = path.join(dir, 'console.log');
      await fs.writeFile(log, `${'old boot output\n'.repeat(100)}ENCOMPASS-BOOTED\n`);
      const since = await markConsole(log);
      const waiting = waitForMarker({ file: log, since, marker: /ENCOMPASS-BOOTED/, timeoutMs: 5000, pollMs: 50 });
      await fs.rm(log);
      await fs.writeFile(log, 'new boot\nENCOMPASS-BOOTED\n');
      expect(await waiting).toEqual({ found: true });
      const stale = await waitForMarker({
        file: log,
        since: await markConsole(log),
        marker: /ENCOMPASS-BOOTED/,
        timeoutMs: 300,
        pollMs: 50,
      });
      expect(stale).toMatchObject({ found: false, reason: expect.stringMatching(/no output matching/) });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
