/** The discover task as a whole: progress, credentials that cannot be had, the outcome's cap, and abort. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_OBSERVED } from '../../../statemachines/discovery';
import { freeUdpPort } from '../../support/machines-host';
import { type DiscoverHarness, discoverHarness } from './context';

const USER = 'secret://local/bmc/user';
const PASSWORD = 'secret://local/bmc/password';

/** The ipmitool processes now running against `port`. */
async function ipmitoolsFor(port: number): Promise<number> {
  let n = 0;
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (cmdline[0]?.endsWith('ipmitool') && cmdline.join(' ').includes(`-p ${port} `)) n++;
  }
  return n;
}

describe('the discover task', () => {
  let h: DiscoverHarness;
  beforeEach(async () => {
    h = await discoverHarness({ [USER]: 'admin', [PASSWORD]: 'hunter22' });
  });
  afterEach(async () => h.cleanup());

  it('reports a seed whose credentials are missing or cannot be resolved as that seed’s error, and its progress per seed', async () => {
    const out = await h.run({
      seeds: [
        { kind: 'ipmi', address: '127.0.0.1', credentials: { user: USER } },
        { kind: 'redfish', address: 'bmc.example', credentials: { user: USER, password: 'secret://local/gone' } },
        { kind: 'ipmi', address: 'a host with spaces', credentials: { user: USER, password: PASSWORD } },
      ],
    });
    expect(out.seeds.map((s) => [s.seed, s.kind, s.error?.code])).toEqual([
      [0, 'ipmi', 'seed_credentials_missing'],
      [1, 'redfish', 'seed_secret_unavailable'],
      [2, 'ipmi', 'seed_address_invalid'],
    ]);
    expect(out.seeds[0]!.error!.message).toBe(
      'The ipmi seed 127.0.0.1 has no credentials.password: add a secret:// reference for it to the seed.',
    );
    expect(out.seeds[1]!.error!.message).toMatch(
      /^The credentials.password of seed bmc.example \(secret:\/\/local\/gone\) could not be read: cannot resolve secret/,
    );
    expect(h.reports[0]).toBe('0 seed 0/3');
    expect(h.reports.at(-1)).toBe('1 seed 3/3');
    expect(h.reports).toHaveLength(4);
  });

  it(`keeps at most ${MAX_OBSERVED} volumes, and says which seed lost some`, async () => {
    const repo = { id: 'big', kind: 'file', path: path.join(h.dir, 'big') };
    await fs.mkdir(path.join(repo.path, 'many'), { recursive: true });
    const half = MAX_OBSERVED / 2 + 1;
    for (let i = 0; i < half; i++) await fs.writeFile(path.join(repo.path, 'many', `img-${i}.img`), '');
    const seed = { kind: 'storage', address: 'big', repository: repo };
    const out = await h.run({ seeds: [seed, seed], hash: false });
    expect(out.volumes).toHaveLength(MAX_OBSERVED);
    expect(out.seeds.map((s) => [s.volumes, s.error?.code])).toEqual([
      [half, undefined],
      [MAX_OBSERVED - half, 'too_many_observed'],
    ]);
    expect(out.seeds[1]!.error!.message).toContain(
      `reported ${half} machines or volumes but only ${MAX_OBSERVED - half} fit`,
    );
  });

  it('stops at once when aborted, ending the ipmitool it started', async () => {
    const port = await freeUdpPort();
    const seeds = [1, 2].map(() => ({
      kind: 'ipmi',
      address: `127.0.0.1:${port}`,
      credentials: { user: USER, password: PASSWORD },
      timeoutSeconds: 10,
    }));
    const abort = new AbortController();
    const running = h.run({ seeds }, abort.signal);
    for (let i = 0; i < 100 && (await ipmitoolsFor(port)) < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await ipmitoolsFor(port)).toBe(2);
    abort.abort(new Error('the operation was cancelled'));
    await expect(running).rejects.toThrow('the operation was cancelled');
    for (let i = 0; i < 40 && (await ipmitoolsFor(port)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await ipmitoolsFor(port)).toBe(0);
  });
});
