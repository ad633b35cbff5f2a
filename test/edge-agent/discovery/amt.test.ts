/** Discovering an Intel AMT machine over WS-Man, against the WS-Man service mock of the driver tests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmtMock, startAmtMock } from '../../support/amt/wsman-mock';
import { type DiscoverHarness, discoverHarness } from './context';

const USER = 'secret://local/amt/user';
const PASSWORD = 'secret://local/amt/password';
const WRONG = 'secret://local/amt/wrong';

describe('discovering amt seeds (mock WS-Man service)', () => {
  let m: AmtMock;
  let h: DiscoverHarness;

  beforeAll(async () => {
    m = await startAmtMock();
    h = await discoverHarness({ [USER]: m.user, [PASSWORD]: m.password, [WRONG]: 'not-the-password' });
  });
  afterAll(async () => {
    await m?.stop();
    await h?.cleanup();
  });

  it('reports the machine with its PlatformGUID, chassis serial, model, maker, power and MACs normalized from dashes', async () => {
    const out = await h.run({
      seeds: [{ kind: 'amt', address: `${m.host}:${m.port}`, credentials: { user: USER, password: PASSWORD } }],
    });
    expect(out.seeds[0]?.error).toBeUndefined();
    expect(out.machines).toEqual([
      {
        seed: 0,
        kind: 'amt',
        identifiers: {
          uuid: m.uuid,
          serial: m.serial,
          model: 'NUC-X',
          macs: ['00:1b:21:3c:4d:5e', '00:1b:21:3c:4d:5f'],
          bmcAddress: `127.0.0.1:${m.port}`,
        },
        facts: { power: 'off', manufacturer: 'Intel Corporation' },
        settings: { host: '127.0.0.1', port: m.port },
      },
    ]);
  });

  it('reports a wrong password as the seed error, without the value', async () => {
    const out = await h.run({
      seeds: [{ kind: 'amt', address: `${m.host}:${m.port}`, credentials: { user: USER, password: WRONG } }],
    });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]?.error).toMatchObject({ code: 'amt_unauthorized' });
    expect(out.seeds[0]?.error?.message).not.toContain('not-the-password');
  });
});
