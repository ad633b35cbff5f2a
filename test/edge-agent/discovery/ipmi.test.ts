/** Discovering blades through their BMCs: two ipmi_sim blades, a silent address and wrong credentials. */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../support/machines-host';
import { type IpmiSimBlade, startIpmiSim } from '../../support/machines-ipmi-sim';
import { type DiscoverHarness, discoverHarness } from './context';

const USER = 'secret://local/bmc/user';
const PASSWORD = 'secret://local/bmc/password';
const WRONG = 'secret://local/bmc/wrong';
const STRANGER = 'secret://local/bmc/stranger';

/** The command lines of the ipmitool processes running now. */
async function ipmitoolCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (/(^|\/)ipmitool /.test(cmdline)) lines.push(cmdline);
  }
  return lines;
}

describe('discovering ipmi seeds', () => {
  let a: IpmiSimBlade;
  let b: IpmiSimBlade;
  let h: DiscoverHarness;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startIpmiSim({ serial: 'SN-DISC-A', uuid: '11111111-2222-4333-8444-555555555555' }),
      startIpmiSim({ serial: 'SN-DISC-B', uuid: '66666666-7777-4888-9999-aaaaaaaaaaaa' }),
    ]);
    // Both simulators were given the same user; their passwords differ, so each blade's seed has its own.
    h = await discoverHarness({
      [USER]: a.user,
      [PASSWORD]: a.password,
      'secret://local/bmc/b-password': b.password,
      [WRONG]: 'not-the-password',
      [STRANGER]: 'nobody-here',
    });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await h?.cleanup();
  });

  it('reports each blade with its GUID, FRU serial, model, maker and power, and a silent address as that seed’s error', async () => {
    const silent = await freeUdpPort();
    const seeds = [
      { kind: 'ipmi', address: `${a.host}:${a.port}`, credentials: { user: USER, password: PASSWORD } },
      {
        kind: 'ipmi',
        address: `${b.host}:${b.port}`,
        credentials: { user: USER, password: 'secret://local/bmc/b-password' },
      },
      // One second per try and one retry: the silent address gives up in about 2 s.
      {
        kind: 'ipmi',
        address: `127.0.0.1:${silent}`,
        credentials: { user: USER, password: PASSWORD },
        timeoutSeconds: 1,
      },
    ];
    const seen = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const line of await ipmitoolCommandLines()) seen.add(line);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const out = await h.run({ seeds }).finally(() => {
      watching = false;
    });
    await watch;

    expect(out.machines).toEqual([
      {
        seed: 0,
        kind: 'ipmi',
        identifiers: {
          uuid: a.uuid,
          serial: 'SN-DISC-A',
          model: 'Blade-X1',
          macs: [],
          bmcAddress: `127.0.0.1:${a.port}`,
        },
        facts: { power: 'off', manufacturer: 'FeasCorp' },
        settings: { host: '127.0.0.1', port: a.port },
      },
      {
        seed: 1,
        kind: 'ipmi',
        identifiers: {
          uuid: b.uuid,
          serial: 'SN-DISC-B',
          model: 'Blade-X1',
          macs: [],
          bmcAddress: `127.0.0.1:${b.port}`,
        },
        facts: { power: 'off', manufacturer: 'FeasCorp' },
        settings: { host: '127.0.0.1', port: b.port },
      },
    ]);
    expect(out.seeds.map((s) => [s.seed, s.machines, s.error?.code])).toEqual([
      [0, 1, undefined],
      [1, 1, undefined],
      [2, 0, 'bmc_unreachable'],
    ]);
    expect(out.seeds[2]!.error!.message).toContain(`127.0.0.1:${silent}`);
    expect(out.seeds[2]!.seconds).toBeLessThan(10);
    console.log(`ipmi seed seconds: ${out.seeds.map((s) => s.seconds).join(', ')}`);
    expect(h.reports.at(-1)).toBe('1 seed 3/3');

    // The silent seed's ipmitool waited two seconds with the password in its environment, not its arguments.
    const lines = [...seen];
    expect(lines.some((l) => l.includes(`-p ${silent}`) && l.includes(' -E'))).toBe(true);
    for (const secret of [a.password, b.password]) {
      expect(lines.join('\n')).not.toContain(secret);
      expect(JSON.stringify(out)).not.toContain(secret);
    }
  });

  it('says the BMC refused the password, and which user it does not know, without showing either password', async () => {
    const address = `${a.host}:${a.port}`;
    const out = await h.run({
      seeds: [
        { kind: 'ipmi', address, credentials: { user: USER, password: WRONG } },
        { kind: 'ipmi', address, credentials: { user: STRANGER, password: PASSWORD } },
      ],
    });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]!.error).toEqual({
      code: 'bmc_credentials_refused',
      message: `The BMC at ${address} refused the user ${a.user} (wrong password): check the seed's credentials.`,
    });
    expect(out.seeds[1]!.error).toEqual({
      code: 'bmc_credentials_refused',
      message: `The BMC at ${address} does not know the user nobody-here: check the seed's credentials.user.`,
    });
    expect(JSON.stringify(out)).not.toContain('not-the-password');
    expect(JSON.stringify(out)).not.toContain(a.password);
  });
});
