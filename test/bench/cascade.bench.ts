/**
 * `npm run bench:cascade`: deployments of n sim machines (n = 1, 2, 4, …, 64; SIZES) from one master
 * of 1 GiB holding 128 MiB of data, sparse clones, through the whole local stack, two ways:
 *
 * - `flat`: every clone copied from the master (`fanout: 64`, so the tree has no relays and each
 *   clone still lands in its machine's host-local repository);
 * - `tree`: `fanout: 4`, relays in the shared repository (4 for n = 16, 4 + 16 for n = 64).
 *
 * The machines sit on three hosts, each with its own agent process and a host-local repository,
 * beside one shared repository that holds the master and the relays (the stack's agent is a fourth). Prints each run's wall time (the request until its operation
 * is seen ended), the clone spans per generation, the fits t = a + b·n and t = a + b·ln n beside the
 * paper's 53.6 + 13n and 57.7 + 38.6 log n, and what the flat line predicts for the tree generation
 * by generation. Writes bench-results/cascade.json and bench-results/cascade.svg.
 *
 * On a real disk under TMPDIR: needs 12 GiB free (64 clones and 20 relays of 128 MiB at most at
 * once, the master, the stack's stores). RUNS (default 1) runs per size; medians are shown.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../../infra/local/stack';
import { startHostAgents, stopHostAgent } from '../support/agents';
import { Api } from '../support/api';
import { baseFiles, hostnameItems } from '../support/images';
import { freeBytes } from './clone-fs';
import { cloneSvg, type Series } from './clone-svg';
import { evalLinear, linearFit, logFit } from './fit';
import { median } from './load';

const SIZES = (process.env.SIZES ?? '1,2,4,8,16,32,64').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 1);
const HOSTS = ['h1', 'h2', 'h3'];
/** The stack's agent and one per host. */
const AGENTS = 1 + HOSTS.length;
const FANOUT = { flat: 64, tree: 4 } as const;
const GiB = 1024 ** 3;
const NEEDS = 12 * GiB;
const PAPER = { linear: { a: 53.6, b: 13 }, log: { a: 57.7, b: 38.6 } };
const RESULTS = fileURLToPath(new URL('../../bench-results/cascade.json', import.meta.url));
const PLOT = fileURLToPath(new URL('../../bench-results/cascade.svg', import.meta.url));

type Mode = keyof typeof FANOUT;

interface Run {
  mode: Mode;
  n: number;
  wall: number;
  /** Per generation: how many clones, and the span from the first one's acceptance to the last one's end (s). */
  generations: { copies: number; span: number }[];
}

/** A 1 GiB ext4 master with 128 MiB of random data and the files the hostname items change. */
function makeMaster(image: string, work: string) {
  const root = join(work, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'data'));
  for (const [path, content] of Object.entries(baseFiles)) writeFileSync(join(root, path), content);
  execFileSync('dd', ['if=/dev/urandom', `of=${join(root, 'data/blob')}`, 'bs=1M', 'count=128', 'status=none']);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, image, '1024M']);
  rmSync(root, { recursive: true, force: true });
}

async function main() {
  const free = freeBytes(tmpdir());
  console.log(`bench:cascade: ${(free / GiB).toFixed(1)} GiB free in ${tmpdir()}; it needs ${NEEDS / GiB} GiB`);
  if (free < NEEDS)
    throw new Error(`bench:cascade needs ${NEEDS / GiB} GiB free in ${tmpdir()}; free space or set TMPDIR`);
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-cascade-'));
  const stack = await startStack({ home, port: 0, log: () => undefined });
  const api = new Api(stack.url, stack.adminToken);
  // One agent process per host beside the stack's own: its host's work (the clones into its host-local
  // repository, its machines) and shared work (the relays).
  const agents = await startHostAgents(api, {
    stack,
    site: 'local',
    hosts: HOSTS,
    dir: join(stack.home, 'agents'),
    label: 'bench:cascade',
  });
  try {
    await setUp(api, home);
    const runs: Run[] = [];
    console.log(' mode |  n | wall s | clone spans per generation (copies: s)');
    let serial = 0;
    for (const mode of ['flat', 'tree'] as const)
      for (const n of SIZES)
        for (let r = 0; r < RUNS; r++) {
          const run = await deployOnce(api, mode, n, () => ++serial);
          runs.push(run);
          console.log(
            `${mode.padStart(5)} | ${String(n).padStart(2)} | ${run.wall.toFixed(1).padStart(6)} | ${run.generations.map((g) => `${g.copies}: ${g.span.toFixed(1)}`).join(', ')}`,
          );
        }
    await report(runs);
  } finally {
    for (const a of agents) await stopHostAgent(api, 'local', a);
    await stack.stop();
    await rm(home, { recursive: true, force: true });
  }
}

/** The shared repository with the master, a host-local repository per host, 64 sim machines spread over the hosts. */
async function setUp(api: Api, home: string) {
  const shared = join(home, 'repos/shared');
  await mkdir(join(shared, 'masters'), { recursive: true });
  makeMaster(join(shared, 'masters/base.img'), home);
  const ok = async (p: Promise<{ status: number; body: any }>) => {
    const r = await p;
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  };
  await ok(api.createRepository({ name: 'shared', site: 'local', kind: 'file', path: shared }));
  for (const host of HOSTS) {
    await mkdir(join(home, 'repos', host), { recursive: true });
    await ok(api.createRepository({ name: host, site: 'local', kind: 'file', path: join(home, 'repos', host), host }));
  }
  const imported = await api.run('/v1/masters', {
    name: 'base',
    repository: 'shared',
    path: 'masters/base.img',
    customization: hostnameItems,
  });
  if (imported.status !== 'succeeded') throw new Error(JSON.stringify(imported));
  const max = Math.max(...SIZES);
  for (let i = 0; i < max; i++)
    await ok(
      api.post('/v1/machines', { name: `m${i + 1}`, site: 'local', kind: 'sim', host: HOSTS[i % HOSTS.length] }),
    );
}

/** A deployment that failed (DynamoDB Local answers InternalFailure under heavy load) is run again, up to twice; the failure is printed. */
async function deployOnce(api: Api, mode: Mode, n: number, next: () => number): Promise<Run> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deploy(api, mode, n, next());
    } catch (e) {
      if (attempt >= 3) throw e;
      console.log(`${mode} ${n}: attempt ${attempt} failed (${(e as Error).message.slice(0, 200)}); running it again`);
    }
  }
}

async function deploy(api: Api, mode: Mode, n: number, serial: number): Promise<Run> {
  const t0 = Date.now();
  const r = await api.post('/v1/deployments', {
    master: 'base',
    machines: Array.from({ length: n }, (_, i) => `m${i + 1}`),
    name: `c${serial}-\${index}`,
    variables: { hostname: `c${serial}-\${index}` },
    method: 'sparse',
    fanout: FANOUT[mode],
  });
  if (r.status !== 202) throw new Error(JSON.stringify(r.body));
  const op = await waitFast(api, r.body.operation);
  const wall = (Date.now() - t0) / 1000;
  const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
  if (op.status !== 'succeeded') {
    await release(api, d);
    throw new Error(`${mode} deployment of ${n} failed: ${JSON.stringify(op.error)}`);
  }
  const generations = await generationSpans(api, op.id, d);
  // Frees the machines and the clones for the next run, outside the timing.
  const del = await api.del(`/v1/deployments/${r.body.id}`);
  if (del.status !== 202) throw new Error(JSON.stringify(del.body));
  const deleted = await api.wait(del.body.operation, 30 * 60_000);
  if (deleted.status !== 'succeeded') throw new Error(`teardown failed: ${JSON.stringify(deleted.error)}`);
  return { mode, n, wall, generations };
}

/** After a failed run: the deployment deleted (its clones and relays go), its quarantined machines released. */
async function release(api: Api, d: any) {
  const del = await api.del(`/v1/deployments/${d.id}`);
  if (del.status === 202) await api.wait(del.body.operation, 30 * 60_000);
  for (const m of d.members) await api.post(`/v1/machines/${m.machine}/release`);
}

/** Polls every 50 ms: the wall time's resolution. */
async function waitFast(api: Api, operation: string) {
  const until = Date.now() + 60 * 60_000;
  for (;;) {
    const { body } = await api.get(`/v1/operations/${operation}`);
    if (body.status !== 'running') return body;
    if (Date.now() > until) throw new Error(`operation ${operation} still running after an hour`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The clone operations the deployment started, by generation: first accepted to last ended. */
async function generationSpans(api: Api, parent: string, d: any) {
  const generationOf = new Map<string, number>();
  for (const r of d.tree?.relays ?? []) generationOf.set(r.name, r.generation);
  for (const m of d.members) generationOf.set(m.clone, m.generation ?? 1);
  const spans = new Map<number, { copies: number; start: number; end: number }>();
  let cursor: string | undefined;
  do {
    const page = await api.get(`/v1/operations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const o of page.body.items as any[]) {
      if (o.parent !== parent || o.kind !== 'clone') continue;
      const g = generationOf.get(o.resource.name) ?? 0;
      const s = spans.get(g) ?? { copies: 0, start: Infinity, end: 0 };
      s.copies++;
      s.start = Math.min(s.start, Date.parse(o.createdAt));
      s.end = Math.max(s.end, Date.parse(o.updatedAt));
      spans.set(g, s);
    }
    cursor = page.body.cursor;
  } while (cursor);
  return [...spans.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, s]) => ({ copies: s.copies, span: (s.end - s.start) / 1000 }));
}

async function report(runs: Run[]) {
  const fmt = (x: number) => x.toFixed(2);
  const series: Series[] = [];
  const fits: Record<string, unknown> = {};
  for (const mode of ['flat', 'tree'] as const) {
    const ns = SIZES;
    const seconds = ns.map((n) => median(runs.filter((r) => r.mode === mode && r.n === n).map((r) => r.wall)));
    const linear = linearFit(ns, seconds);
    const log = logFit(ns, seconds);
    series.push({ method: `${mode} (fanout ${FANOUT[mode]})`, ns, seconds, linear, log });
    fits[mode] = { ns, seconds, linear, log };
    console.log(
      `${mode}: t = ${fmt(linear.a)} + ${fmt(linear.b)}·n s (r² ${linear.r2.toFixed(3)}); t = ${fmt(log.a)} + ${fmt(log.b)}·ln n s (r² ${log.r2.toFixed(3)})`,
    );
  }
  console.log(
    `the paper: t = ${PAPER.linear.a} + ${PAPER.linear.b}·n s and t = ${PAPER.log.a} + ${PAPER.log.b}·log n s (3 GB master, Xen blades to local ext3)`,
  );
  // The flat line is one generation of n copies: the tree is predicted as its generations one after the other.
  const flat = series[0]!.linear;
  console.log('  n | tree measured s | flat line over its generations s');
  const predictions = SIZES.map((n) => {
    const tree = runs.filter((r) => r.mode === 'tree' && r.n === n);
    const generations = tree[0]!.generations.map((g) => g.copies);
    const predicted = generations.reduce((s, c) => s + evalLinear(flat, c), 0);
    const measured = median(tree.map((r) => r.wall));
    console.log(
      `${String(n).padStart(3)} | ${measured.toFixed(1).padStart(15)} | ${predicted.toFixed(1)} (${generations.join(' + ')})`,
    );
    return { n, generations, measured, predicted };
  });
  await mkdir(join(RESULTS, '..'), { recursive: true });
  const at = new Date().toISOString();
  await writeFile(
    RESULTS,
    `${JSON.stringify({ at, sizes: SIZES, runsPerSize: RUNS, hosts: HOSTS, agents: AGENTS, fanout: FANOUT, paper: PAPER, fits, predictions, runs }, null, 2)}\n`,
  );
  await writeFile(
    PLOT,
    cloneSvg(
      series,
      `bench:cascade ${at.slice(0, 10)}: n sim members, sparse clones of a 1 GiB master with 128 MiB data, ${AGENTS} agents, ${RUNS} run(s) per n; paper: 53.6 + 13n, 57.7 + 38.6 log n`,
    ),
  );
  console.log(`wrote ${RESULTS} and ${PLOT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
