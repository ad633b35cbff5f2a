/** The bladecenter driver over the AMM's SSH command line, against an ssh2 server that mocks the AMM CLI. */
import { promises as fs } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BladeCenterMachineDriver } from '../../../../edge-agent/drivers/machine/bladecenter/driver';
import type { MachineRef } from '../../../../edge-agent/drivers/machine/interface';
import { type AmmCliMock, startAmmCliMock } from '../../../support/bladecenter/amm-cli-mock';
import { describeMachineConformance, machineWorkspace, offMachineFixture } from './machine.case';

let mockStarting: Promise<AmmCliMock> | undefined;
const mock = () => {
  mockStarting ??= startAmmCliMock([1, 3]);
  return mockStarting;
};
afterAll(async () => (await mockStarting)?.stop());

function cliBlade(m: AmmCliMock, slot = 1, settings: Record<string, unknown> = {}, password = m.password): MachineRef {
  return {
    id: `blade-${slot}`,
    name: `blade ${slot}`,
    kind: 'bladecenter',
    identity: {},
    settings: {
      amm: m.host,
      via: 'ssh',
      sshPort: m.port,
      sshHostKey: m.hostKey,
      slot,
      shutdownGraceSeconds: 2,
      powerConfirmSeconds: 5,
      ...settings,
    },
    credentials: { user: m.user, password },
  };
}

const makeWorkspace = () => machineWorkspace('blade-cli', 'file');

describeMachineConformance('bladecenter via the AMM CLI over SSH (an ssh2 mock of the AMM CLI)', async () => {
  const m = await mock();
  const ws = await makeWorkspace();
  const driver = new BladeCenterMachineDriver({ stateDir: ws.stateDir, log: () => {} });
  const machine = cliBlade(m);
  return offMachineFixture(ws, driver, machine);
});

describe('bladecenter machine driver over the AMM CLI (ssh2 mock)', () => {
  let m: AmmCliMock;
  let ws: Awaited<ReturnType<typeof makeWorkspace>>;
  let driver: BladeCenterMachineDriver;

  beforeAll(async () => {
    m = await mock();
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    driver = new BladeCenterMachineDriver({ stateDir: ws.stateDir, log: () => {} });
  });
  afterEach(async () => {
    await driver.powerOff(cliBlade(m));
    await fs.rm(ws.dir, { recursive: true, force: true });
  });

  it('shuts the blade down cleanly with power -softoff, and sends the power commands the AMM CLI takes', async () => {
    const machine = cliBlade(m, 1, { bootDevice: 'iscsi' });
    m.commands.length = 0;
    await driver.attach(machine, ws.disk);
    await driver.powerOn(machine);
    await driver.powerOff(machine);
    expect(m.blades[1]?.offs.at(-1)).toBe('-softoff');
    expect(m.blades[1]?.bootFirst).toBe('iscsi');
    expect(m.commands).toContain('power -on -T system:blade[1]');
    expect(m.commands).toContain('bootseq iscsi -T system:blade[1]');
    expect(m.commands).toContain('power -state -T system:blade[1]');
    expect(m.commands.join('\n')).not.toContain(m.password);
  });

  it("reads the blade's UUID, serial and MACs from info, normalized", async () => {
    expect(await driver.identity(cliBlade(m, 3))).toEqual({
      uuid: '4a1b2c3d-5e6f-4071-8293-a4b5c6d7e8f3',
      serial: 'KQ00003',
      macs: ['00:21:5e:0a:03:40', '00:21:5e:0a:03:42'],
    });
  });

  it('says the CLI refused the user when the password is wrong, without showing it', async () => {
    const err = (await driver.status(cliBlade(m, 1, {}, 'not-the-password')).catch((e: Error) => e)) as Error;
    expect(err).toMatchObject({ name: 'AmmRefusedError', code: 'amm_refused' });
    expect(err.message).toMatch(/refused user USERID/);
    expect(err.message).not.toContain('not-the-password');
  });

  it('sends no password to a host whose key is not settings.sshHostKey, and needs the key set', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    await expect(driver.status(cliBlade(m, 1, { sshHostKey: other }))).rejects.toMatchObject({
      name: 'AmmHostKeyError',
      code: 'amm_host_key_mismatch',
      offered: m.hostKey,
    });
    await expect(driver.status(cliBlade(m, 1, { sshHostKey: undefined }))).rejects.toMatchObject({
      code: 'invalid_settings',
      key: 'settings.sshHostKey',
    });
  });

  it('names the empty slot', async () => {
    await expect(driver.status(cliBlade(m, 2))).rejects.toMatchObject({ name: 'BladeNotPresentError', slot: 2 });
  });
});
