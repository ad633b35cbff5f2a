/**
 * bench:discover, IPMI: the discover task over BLADES ipmi_sim blades (one seed each), beside the same
 * ipmitool commands the probe runs (edge-agent/discovery/ipmi.ts: `chassis power status` with -v,
 * then `mc guid`, `fru print 0`, `lan print`; -N 3 -R 1, the probe's defaults) run one after the
 * other by hand, blade after blade.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { SEED_CONCURRENCY } from '../../edge-agent/tasks/discover';
import { discoverHarness } from '../edge-agent/discovery/context';
import { type IpmiSimBlade, startIpmiSim } from '../support/machines-ipmi-sim';
import { alternate, type Figure, type Owed } from './discover-common';

const BLADES = 8;
const USER = 'secret://local/bench/bmc-user';
const password = (i: number) => `secret://local/bench/bmc-${i}-password`;
const exec = promisify(execFile);

/** The probe's calls, in its order; only the first runs with -v (so a failed sign-in says why). */
const CALLS = [
  { command: ['chassis', 'power', 'status'], verbose: true },
  { command: ['mc', 'guid'] },
  { command: ['fru', 'print', '0'] },
  { command: ['lan', 'print'] },
];

async function bareBlade(b: IpmiSimBlade): Promise<void> {
  const connection = ['-I', 'lanplus', '-C', '3', '-H', b.host, '-p', String(b.port), '-U', b.user, '-E'];
  for (const { command, verbose } of CALLS)
    await exec('ipmitool', [...connection, '-N', '3', '-R', '1', ...(verbose ? ['-v'] : []), ...command], {
      env: { ...process.env, IPMI_PASSWORD: b.password },
      maxBuffer: 4 << 20,
    });
}

/** Starts the blades, each owed a stop from the moment it answers (so one failing to start leaves none running). */
async function startBlades(owed: Owed): Promise<{ blades: IpmiSimBlade[]; stop: () => Promise<void> }> {
  const hex = (i: number) => i.toString(16).padStart(2, '0');
  const stops: Array<() => Promise<void>> = [];
  const started = await Promise.allSettled(
    Array.from({ length: BLADES }, (_, i) =>
      startIpmiSim({ serial: `SN-BENCH-${i}`, uuid: `b1ade0${hex(i)}-0000-4000-8000-0000000000${hex(i)}` }).then(
        (b) => {
          stops.push(owed.add(() => b.stop()));
          return b;
        },
      ),
    ),
  );
  const stop = async () => {
    await Promise.allSettled(stops.map((s) => s()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { blades: started.map((s) => (s as PromiseFulfilledResult<IpmiSimBlade>).value), stop };
}

export async function measureIpmi(runs: number, owed: Owed): Promise<Figure[]> {
  console.log(`IPMI: starting ${BLADES} ipmi_sim blades...`);
  const { blades, stop } = await startBlades(owed);
  const secrets: Record<string, string> = { [USER]: blades[0]!.user };
  blades.forEach((b, i) => {
    secrets[password(i)] = b.password;
  });
  const h = await discoverHarness(secrets);
  const removeHarness = owed.add(() => h.cleanup());
  try {
    const seeds = blades.map((b, i) => ({
      kind: 'ipmi',
      address: `${b.host}:${b.port}`,
      credentials: { user: USER, password: password(i) },
    }));
    const wall: number[] = [];
    const perSeed: number[] = [];
    const bareWall: number[] = [];
    const barePerBlade: number[] = [];
    const ours = async () => {
      const t0 = performance.now();
      const out = await h.run({ seeds });
      wall.push((performance.now() - t0) / 1000);
      const serials = out.machines.map((m) => m.identifiers.serial).join(',');
      const failed = out.seeds.find((s) => s.error);
      if (failed || serials !== blades.map((b) => b.serial).join(','))
        throw new Error(
          `discover should report every blade by its serial: ${serials} ${JSON.stringify(failed?.error)}`,
        );
      perSeed.push(...out.seeds.map((s) => s.seconds));
    };
    const bare = async () => {
      const t0 = performance.now();
      for (const b of blades) {
        const t1 = performance.now();
        await bareBlade(b);
        barePerBlade.push((performance.now() - t1) / 1000);
      }
      bareWall.push((performance.now() - t0) / 1000);
    };
    await alternate(
      runs,
      ours,
      bare,
      (r) =>
        console.log(
          `IPMI run ${r}/${runs}: discover ${wall.at(-1)!.toFixed(3)} s, bare sequential ${bareWall.at(-1)!.toFixed(3)} s`,
        ),
      async () => {
        await ours();
        await bare();
        wall.length = perSeed.length = bareWall.length = barePerBlade.length = 0;
      },
    );
    return [
      {
        key: 'ipmi-wall',
        what: `IPMI discover, ${BLADES} seeds (${SEED_CONCURRENCY} at a time), wall`,
        unit: 's',
        runs: wall,
      },
      {
        key: 'ipmi-bare-wall',
        what: `IPMI peer: 4 ipmitool calls x ${BLADES} blades, sequential, wall`,
        unit: 's',
        runs: bareWall,
      },
      { key: 'ipmi-seed', what: 'IPMI discover, one seed (seedReport.seconds)', unit: 's', runs: perSeed },
      { key: 'ipmi-bare-blade', what: 'IPMI peer, one blade (4 ipmitool calls)', unit: 's', runs: barePerBlade },
    ];
  } finally {
    await Promise.all([stop(), removeHarness()]);
  }
}
