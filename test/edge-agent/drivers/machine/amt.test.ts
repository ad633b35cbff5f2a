/** The amt driver over WS-Management with HTTP Digest, against a WS-Man service in the tests that mocks AMT. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { platformGuid } from '../../../../edge-agent/drivers/machine/amt/amt';
import { digestAuthorization, parseChallenge } from '../../../../edge-agent/drivers/machine/amt/digest';
import { AmtMachineDriver } from '../../../../edge-agent/drivers/machine/amt/driver';
import type { MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { type AmtMock, startAmtMock } from '../../../support/amt/wsman-mock';
import { describeMachineConformance, machineWorkspace, offMachineFixture } from './machine.case';

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
  return offMachineFixture(ws, driver, machine);
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

/**
 * A self-signed certificate made by openssl for the name amt.test and the address 127.0.0.1, its
 * SHA-256 fingerprint as openssl prints it, another self-signed certificate that did not sign it, and
 * the mock served over HTTPS with the first.
 */
async function makeTlsFixture() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-amt-tls-'));
  const run = promisify(execFile);
  const selfSigned = async (name: string, cn: string, san: string) => {
    const [key, cert] = [path.join(dir, `${name}.key`), path.join(dir, `${name}.pem`)];
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    return { key: await fs.readFile(key, 'utf8'), cert: await fs.readFile(cert, 'utf8'), file: cert };
  };
  const amtCert = await selfSigned('amt', 'amt.test', 'DNS:amt.test,IP:127.0.0.1');
  const otherCa = await selfSigned('other', 'other CA', 'DNS:other.test');
  const { stdout } = await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', amtCert.file]);
  const sha256 = stdout.trim().split('=')[1]!;
  const m = await startAmtMock({ tls: { key: amtCert.key, cert: amtCert.cert } });
  return { dir, m, cert: amtCert.cert, otherCa: otherCa.cert, sha256 };
}

let tlsStarting: ReturnType<typeof makeTlsFixture> | undefined;
const tlsFixture = () => {
  tlsStarting ??= makeTlsFixture();
  return tlsStarting;
};
afterAll(async () => {
  const f = await tlsStarting;
  await f?.m.stop();
  if (f) await fs.rm(f.dir, { recursive: true, force: true });
});

describeMachineConformance(
  'amt over TLS (certificate from settings.caCertificate, against a mock WS-Man service)',
  async () => {
    const { m, cert } = await tlsFixture();
    const ws = await makeWorkspace();
    const driver = new AmtMachineDriver({ stateDir: ws.stateDir, log: () => {} });
    const machine = amtMachine(m, { tls: true, caCertificate: cert });
    return offMachineFixture(ws, driver, machine);
  },
);

describe('amt machine driver over TLS (mock WS-Man service on HTTPS)', () => {
  let f: Awaited<ReturnType<typeof makeTlsFixture>>;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: AmtMachineDriver;
  const refusal = (machine: MachineRef) => driver.status(machine).catch((e: Error) => e);

  beforeAll(async () => {
    f = await tlsFixture();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    driver = new AmtMachineDriver({ stateDir: ws.stateDir, log: () => {} });
    delete f.m.state.refuseGraceful;
  });
  afterEach(async () => {
    await driver.powerOff(amtMachine(f.m, { tls: true, caCertificate: f.cert }));
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('powers on and off and reads the identity under digest authentication, trusting settings.caCertificate', async () => {
    const machine = amtMachine(f.m, { tls: true, caCertificate: f.cert });
    const refused = f.m.state.refused;
    f.m.state.requests.length = 0;
    await driver.attach(machine, ws.disk);
    expect(await driver.powerOn(machine)).toMatchObject({ power: 'on', booted: true });
    expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
    expect(f.m.state.requests).toEqual([2, 12]);
    expect(await driver.identity(machine)).toEqual({
      uuid: f.m.uuid,
      serial: f.m.serial,
      macs: ['00:1b:21:3c:4d:5e', '00:1b:21:3c:4d:5f'],
    });
    expect(f.m.state.refused).toBe(refused);
    const wrong = await refusal(amtMachine(f.m, { tls: true, caCertificate: f.cert }, 'not-the-password'));
    expect(wrong).toMatchObject({ code: 'amt_unauthorized' });
    expect(f.m.state.refused).toBe(refused + 1);
  });

  it('checks the name against settings.tlsServerName when a CA is given', async () => {
    const named = amtMachine(f.m, { tls: true, caCertificate: f.cert, tlsServerName: 'amt.test' });
    expect(await driver.status(named)).toMatchObject({ power: 'off' });
    const err = await refusal(amtMachine(f.m, { tls: true, caCertificate: f.cert, tlsServerName: 'elsewhere.test' }));
    expect(err).toMatchObject({
      name: 'AmtCertificateError',
      code: 'amt_certificate_rejected',
      problem: 'name_mismatch',
    });
    expect((err as Error).message).toMatch(/elsewhere\.test/);
    expect((err as Error).message).toMatch(/settings\.tlsServerName/);
  });

  it('trusts a pinned SHA-256 fingerprint, with or without colons, whatever name the certificate holds', async () => {
    expect(await driver.status(amtMachine(f.m, { tls: true, certificateSha256: f.sha256 }))).toMatchObject({
      power: 'off',
    });
    const bare = f.sha256.replace(/:/g, '').toLowerCase();
    const renamed = amtMachine(f.m, { tls: true, certificateSha256: bare, tlsServerName: 'elsewhere.test' });
    expect(await driver.status(renamed)).toMatchObject({ power: 'off' });
  });

  it('refuses a certificate that is not the pinned one, sending nothing and naming what was presented', async () => {
    const received = f.m.state.received;
    const pin = `${'AB:'.repeat(31)}AB`;
    const err = await refusal(amtMachine(f.m, { tls: true, certificateSha256: pin }));
    expect(err).toMatchObject({
      code: 'amt_certificate_rejected',
      problem: 'pin_mismatch',
      presented: { subject: 'CN=amt.test', sha256: f.sha256 },
    });
    expect((err as Error).message).toContain(f.sha256);
    expect((err as Error).message).toContain(pin);
    expect((err as Error).message).toMatch(/update settings\.certificateSha256/);
    expect(f.m.state.received).toBe(received);
  });

  it('refuses a self-signed certificate that neither the system CAs nor settings.caCertificate trust', async () => {
    const received = f.m.state.received;
    const system = await refusal(amtMachine(f.m, { tls: true }));
    expect(system).toMatchObject({ code: 'amt_certificate_rejected', problem: 'untrusted' });
    expect((system as Error).message).toMatch(/not trusted by the system's CAs: it is self-signed/);
    expect((system as Error).message).toMatch(/set settings\.caCertificate .*settings\.certificateSha256/i);
    const otherCa = await refusal(amtMachine(f.m, { tls: true, caCertificate: f.otherCa }));
    expect(otherCa).toMatchObject({ code: 'amt_certificate_rejected', problem: 'untrusted' });
    expect((otherCa as Error).message).toMatch(/not trusted by settings\.caCertificate/);
    expect(f.m.state.received).toBe(received);
  });

  it('says a plain-HTTP service did not complete a TLS handshake when settings.tls is true', async () => {
    const plain = await mock();
    const err = await refusal(amtMachine(plain, { tls: true, caCertificate: f.cert }));
    expect(err).toMatchObject({ name: 'AmtTlsError', code: 'amt_tls_failed' });
    expect((err as Error).message).toMatch(/set settings\.tls to false/);
  });

  it('says the service did not answer, naming the TLS port, when plain HTTP meets an HTTPS service', async () => {
    const err = await refusal(amtMachine(f.m));
    expect(err).toMatchObject({ code: 'amt_unreachable' });
    expect((err as Error).message).toMatch(/16993 with tls/);
  });

  it('names a trust setting that cannot be used', async () => {
    const bad = async (settings: Record<string, unknown>, key: string) =>
      expect(await refusal(amtMachine(f.m, settings))).toMatchObject({ code: 'invalid_settings', key });
    await bad({ caCertificate: f.cert }, 'settings.caCertificate');
    await bad({ tls: true, caCertificate: 'not a certificate' }, 'settings.caCertificate');
    await bad({ tls: true, certificateSha256: 'ab:cd' }, 'settings.certificateSha256');
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
