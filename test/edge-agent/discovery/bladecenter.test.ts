/** Discovering the blades of a BladeCenter chassis through its AMM: real snmpd with the test's chassis pass script. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Amm, startAmm } from '../../support/bladecenter/amm';
import { type DiscoverHarness, discoverHarness } from './context';

const COMMUNITY = 'secret://local/amm/community';
const WRONG = 'secret://local/amm/wrong';
const USER = 'secret://local/amm/user';
const PASSWORD = 'secret://local/amm/password';
const V3 = { user: 'encompass-priv', authPassword: 'auth-pass-0123', privPassword: 'priv-pass-4567' };
const PRIV_USER = 'secret://local/amm-priv/user';
const PRIV_AUTH = 'secret://local/amm-priv/password';
const PRIV_PRIV = 'secret://local/amm-priv/privPassword';
const PRIV_WRONG = 'secret://local/amm-priv/wrong';

describe('discovering bladecenter seeds', () => {
  let a: Amm;
  let h: DiscoverHarness;

  beforeAll(async () => {
    a = await startAmm({ slots: [1, 4] });
    h = await discoverHarness({
      [COMMUNITY]: a.community,
      [WRONG]: 'not-the-community',
      [USER]: a.v3.user,
      [PASSWORD]: a.v3.password,
    });
  });
  afterAll(async () => {
    await a?.stop();
    await h?.cleanup();
  });

  it("enumerates the chassis' blades, each addressed as AMM + slot, with its VPD serial, type, normalized MACs and power", async () => {
    const out = await h.run({
      seeds: [{ kind: 'bladecenter', address: `${a.host}:${a.port}`, credentials: { community: COMMUNITY } }],
    });
    expect(out.seeds).toEqual([expect.objectContaining({ seed: 0, kind: 'bladecenter', machines: 2 })]);
    expect(out.seeds[0]?.error).toBeUndefined();
    expect(out.machines).toEqual(
      [1, 4].map((slot) => ({
        seed: 0,
        kind: 'bladecenter',
        name: `slot-${slot}`,
        identifiers: {
          serial: `99B000${slot}`,
          model: '8853AC1',
          macs: [`00:1a:64:76:0${slot}:10`, `00:1a:64:76:0${slot}:11`],
          bmcAddress: `127.0.0.1:${a.port}#${slot}`,
        },
        facts: { power: 'off' },
        settings: { amm: '127.0.0.1', snmpPort: a.port, slot },
      })),
    );
  });

  it('asks with an SNMPv3 user when the seed names one', async () => {
    const out = await h.run({
      seeds: [{ kind: 'bladecenter', address: `${a.host}:${a.port}`, credentials: { user: USER, password: PASSWORD } }],
    });
    expect(out.machines.map((m) => m.name)).toEqual(['slot-1', 'slot-4']);
  });

  it('reports a wrong community as the seed error, saying the AMM stays silent for one, without the value', async () => {
    const out = await h.run({
      seeds: [
        { kind: 'bladecenter', address: `${a.host}:${a.port}`, credentials: { community: WRONG }, timeoutSeconds: 1 },
      ],
    });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]?.error).toMatchObject({
      code: 'amm_unreachable',
      message: expect.stringMatching(/credentials\.community/),
    });
    expect(out.seeds[0]?.error?.message).not.toContain('not-the-community');
  });
});

describe('discovering a bladecenter seed over SNMPv3 authPriv (SHA + AES; an snmpd whose user needs privacy)', () => {
  let a: Amm;
  let h: DiscoverHarness;
  const seed = (credentials: Record<string, string>) => ({
    kind: 'bladecenter' as const,
    address: `${a.host}:${a.port}`,
    credentials,
    timeoutSeconds: 2,
  });

  beforeAll(async () => {
    a = await startAmm({ slots: [2, 7], v3: V3 });
    h = await discoverHarness({
      [PRIV_USER]: V3.user,
      [PRIV_AUTH]: V3.authPassword,
      [PRIV_PRIV]: V3.privPassword,
      [PRIV_WRONG]: 'not-the-v3-secret',
    });
  });
  afterAll(async () => {
    await a?.stop();
    await h?.cleanup();
  });

  it("enumerates the chassis' blades with the seed's user, auth and privacy passwords", async () => {
    const out = await h.run({ seeds: [seed({ user: PRIV_USER, password: PRIV_AUTH, privPassword: PRIV_PRIV })] });
    expect(out.seeds[0]?.error).toBeUndefined();
    expect(out.machines.map((m) => [m.name, m.identifiers['serial'], m.settings])).toEqual([
      ['slot-2', '99B0002', { amm: '127.0.0.1', snmpPort: a.port, slot: 2 }],
      ['slot-7', '99B0007', { amm: '127.0.0.1', snmpPort: a.port, slot: 7 }],
    ]);
  });

  it('reports a wrong auth password as the seed error naming credentials.password, without the value', async () => {
    const out = await h.run({ seeds: [seed({ user: PRIV_USER, password: PRIV_WRONG, privPassword: PRIV_PRIV })] });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]?.error).toMatchObject({
      code: 'amm_refused',
      message: expect.stringMatching(/credentials\.password/),
    });
    expect(out.seeds[0]?.error?.message).not.toContain('not-the-v3-secret');
  });

  it('reports a wrong privacy password as the seed error naming credentials.privPassword, without the value', async () => {
    const out = await h.run({ seeds: [seed({ user: PRIV_USER, password: PRIV_AUTH, privPassword: PRIV_WRONG })] });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]?.error).toMatchObject({
      code: 'amm_unreachable',
      message: expect.stringMatching(/credentials\.privPassword/),
    });
    expect(out.seeds[0]?.error?.message).not.toContain('not-the-v3-secret');
  });

  it('reports a seed without the privacy password that the user needs, naming credentials.privPassword', async () => {
    const out = await h.run({ seeds: [seed({ user: PRIV_USER, password: PRIV_AUTH })] });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]?.error).toMatchObject({
      code: 'amm_refused',
      message: expect.stringMatching(/credentials\.privPassword/),
    });
  });
});
