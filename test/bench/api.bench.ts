/**
 * `npm run bench:api`: latency of the API on a local stack it starts itself, against a bare Hono app
 * in the same runtime (workerd), under two loads: a closed loop (WORKERS clients, each sending its next
 * request when the last one answered) and an open loop at RATE requests a second. Each scenario runs
 * REPEATS times, interleaved so drift hits all alike; the table shows the medians. Results go to
 * bench-results/api.json. The goals (issue 11): GET of a clone at most 3x the bare app's p50, and its
 * p99 under 20 ms at 200 req/s.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { startStack } from '../../infra/local/stack';
import { Api } from '../support/api';
import { makeClone, makeMachine, makeMaster } from '../support/fixtures';
import { startBaseline } from './baseline';
import { closedLoop, median, openLoop, type Sample, type Send, summarize } from './load';

const WORKERS = 8;
const SECONDS = 5;
const RATE = 200;
const RATE_SECONDS = 10;
const WARMUP_SECONDS = 1;
/** Runs of each scenario; `BENCH_REPEATS=1` for a quick look. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const TRANSITIONS = 20;
const OPERATION_POLL_MS = 10;
const RESULTS = fileURLToPath(new URL('../../bench-results/api.json', import.meta.url));
/**
 * The load's connections, kept alive between requests but closed by this side after a second idle:
 * workerd closes idle connections too, and one it closes just as a request goes out on it fails.
 */
const dispatcher = new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 });
const GOAL_RATIO = 3;
const GOAL_P99_MS = 20;

const BASELINE = 'baseline: bare Hono GET /';
const GET_CLONE = 'GET /v1/clones/{id}';
const BASELINE_AT_RATE = `baseline: bare Hono GET / at ${RATE} req/s`;
const GET_CLONE_AT_RATE = `GET /v1/clones/{id} at ${RATE} req/s`;
const ACCEPT = 'POST attach|detach until 202';
const END_TO_END = 'attach|detach until succeeded';

/** Each row's p50 is shown as a multiple of its peer's p50, measured under the same load. */
const PEER: Record<string, string> = {
  [BASELINE]: BASELINE,
  [GET_CLONE]: BASELINE,
  [BASELINE_AT_RATE]: BASELINE_AT_RATE,
  [GET_CLONE_AT_RATE]: BASELINE_AT_RATE,
  [ACCEPT]: BASELINE,
  [END_TO_END]: BASELINE,
};

/**
 * Alternates attach and detach on an assigned clone, one at a time: the time until the POST is
 * accepted, and until its operation succeeded. Sequential runs, so req/s is one client's rate.
 */
async function transitions(api: Api, clone: string, runs: number): Promise<{ accept: Sample; e2e: Sample }> {
  const accept: number[] = [];
  const e2e: number[] = [];
  let binding = (await api.get(`/v1/clones/${clone}`)).body.binding as string;
  for (let i = 0; i < runs; i++) {
    const event = binding === 'assigned' ? 'attach' : 'detach';
    const t0 = performance.now();
    const posted = await api.post(`/v1/clones/${clone}/${event}`);
    if (posted.status !== 202)
      throw new Error(`POST ${event} answered ${posted.status}: ${JSON.stringify(posted.body)}`);
    accept.push(performance.now() - t0);
    for (;;) {
      const op = (await api.get(`/v1/operations/${posted.body.operation}`)).body;
      if (op.status === 'succeeded') break;
      if (op.status !== 'running') throw new Error(`${event} ended ${op.status}: ${JSON.stringify(op.error)}`);
      await sleep(OPERATION_POLL_MS);
    }
    e2e.push(performance.now() - t0);
    binding = event === 'attach' ? 'attached' : 'assigned';
  }
  const seconds = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / 1000;
  return { accept: summarize(accept, 0, seconds(accept)), e2e: summarize(e2e, 0, seconds(e2e)) };
}

function checked(name: string, s: Sample & { firstError?: string }): Sample {
  if (s.errors)
    throw new Error(`${name}: ${s.errors} of ${s.requests + s.errors} requests failed, first: ${s.firstError}`);
  const { firstError: _ignored, ...sample } = s;
  return sample;
}

function counted(name: string, s: Sample & { firstError?: string }): Sample {
  const { firstError, ...sample } = s;
  if (firstError) console.log(`${name}: ${s.errors} of ${s.requests + s.errors} requests failed, first: ${firstError}`);
  return sample;
}

function table(medians: Record<string, Sample>): string {
  const rows = [['scenario', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'p50 / peer p50']];
  for (const [name, s] of Object.entries(medians))
    rows.push([
      name,
      String(Math.round(s.requests)),
      String(Math.round(s.errors)),
      s.rps.toFixed(1),
      s.p50.toFixed(2),
      s.p99.toFixed(2),
      `${(s.p50 / medians[PEER[name]!]!.p50).toFixed(1)}x`,
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The median of each field over the runs of one scenario. */
function medianSample(samples: Sample[]): Sample {
  const m = (k: keyof Sample) => median(samples.map((s) => s[k]));
  return {
    requests: m('requests'),
    errors: m('errors'),
    seconds: m('seconds'),
    rps: m('rps'),
    p50: m('p50'),
    p99: m('p99'),
  };
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-'));
  const cleanup: (() => Promise<unknown>)[] = [() => rm(home, { recursive: true, force: true })];
  try {
    console.log('starting the baseline and a local stack...');
    const baseline = await startBaseline();
    cleanup.unshift(baseline.stop);
    const stack = await startStack({ home, port: 0 });
    cleanup.unshift(stack.stop);

    const api = new Api(stack.url, stack.adminToken);
    const { master } = await makeMaster(api, { home });
    const clone = await makeClone(api, master.name);
    const machine = await makeMachine(api);
    const assigned = await api.run(`/v1/clones/${clone.id}/assign`, {
      machine: machine.id,
      customization: { variables: { hostname: 'bench' } },
    });
    if (assigned.status !== 'succeeded') throw new Error(`assign failed: ${JSON.stringify(assigned.error)}`);

    const auth = { authorization: `Bearer ${stack.adminToken}` };
    const requests: Record<string, Send> = {
      baseline: () => fetch(`${baseline.url}/`, { dispatcher }),
      clone: () => fetch(`${stack.url}/v1/clones/${clone.id}`, { headers: auth, dispatcher }),
    };
    // A closed loop must answer every request; at a fixed rate, requests that fail are a result (counted).
    const scenarios: Record<string, () => Promise<Sample>> = {
      [BASELINE]: async () =>
        checked(BASELINE, await closedLoop(requests.baseline!, { workers: WORKERS, seconds: SECONDS })),
      [GET_CLONE]: async () =>
        checked(GET_CLONE, await closedLoop(requests.clone!, { workers: WORKERS, seconds: SECONDS })),
      [BASELINE_AT_RATE]: async () =>
        counted(BASELINE_AT_RATE, await openLoop(requests.baseline!, { rps: RATE, seconds: RATE_SECONDS })),
      [GET_CLONE_AT_RATE]: async () =>
        counted(GET_CLONE_AT_RATE, await openLoop(requests.clone!, { rps: RATE, seconds: RATE_SECONDS })),
    };
    for (const send of Object.values(requests))
      checked('warm-up', await closedLoop(send, { workers: WORKERS, seconds: WARMUP_SECONDS }));

    const runs: Record<string, Sample[]> = Object.fromEntries(Object.keys(PEER).map((n) => [n, []]));
    for (let r = 1; r <= REPEATS; r++) {
      for (const [name, run] of Object.entries(scenarios)) runs[name]!.push(await run());
      const { accept, e2e } = await transitions(api, clone.id, TRANSITIONS);
      runs[ACCEPT]!.push(accept);
      runs[END_TO_END]!.push(e2e);
      console.log(
        `run ${r}/${REPEATS}: ${Object.entries(runs)
          .map(([n, s]) => `${n} p50 ${s.at(-1)!.p50.toFixed(2)} ms`)
          .join('; ')}`,
      );
    }

    const medians = Object.fromEntries(Object.entries(runs).map(([n, samples]) => [n, medianSample(samples)]));
    console.log(
      `\nmedians of ${REPEATS} runs; closed loop: ${WORKERS} workers x ${SECONDS} s; open loop: ${RATE} req/s x ${RATE_SECONDS} s, latency from each request's appointed time; transitions: ${TRANSITIONS} sequential runs (req/s = one client's rate)\n`,
    );
    console.log(table(medians));
    const ratio = medians[GET_CLONE]!.p50 / medians[BASELINE]!.p50;
    const p99AtRate = medians[GET_CLONE_AT_RATE]!.p99;
    const goals = {
      getCloneVsBaselineP50: { value: ratio, goal: GOAL_RATIO, met: ratio <= GOAL_RATIO },
      getCloneP99AtRateMs: {
        value: p99AtRate,
        goal: GOAL_P99_MS,
        met: p99AtRate < GOAL_P99_MS && medians[GET_CLONE_AT_RATE]!.errors === 0,
      },
    };
    console.log(
      `\nGET of a clone: ${ratio.toFixed(1)}x the bare app's p50 (goal at most ${GOAL_RATIO}x: ${goals.getCloneVsBaselineP50.met ? 'met' : 'not met'}); p99 at ${RATE} req/s ${p99AtRate.toFixed(1)} ms (goal under ${GOAL_P99_MS} ms: ${goals.getCloneP99AtRateMs.met ? 'met' : 'not met'})`,
    );

    await mkdir(join(RESULTS, '..'), { recursive: true });
    const ratios = Object.fromEntries(Object.entries(medians).map(([n, m]) => [n, m.p50 / medians[PEER[n]!]!.p50]));
    const settings = {
      workers: WORKERS,
      seconds: SECONDS,
      rate: RATE,
      rateSeconds: RATE_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      repeats: REPEATS,
      transitions: TRANSITIONS,
    };
    const host = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model };
    await writeFile(
      RESULTS,
      `${JSON.stringify({ at: new Date().toISOString(), host, settings, medians, p50VsPeer: ratios, peers: PEER, goals, runs }, null, 2)}\n`,
    );
    console.log(`\nwritten to ${RESULTS}`);
  } finally {
    for (const step of cleanup) await step().catch((e: Error) => console.error(`cleanup: ${e.message}`));
  }
}

await main();
