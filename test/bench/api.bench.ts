/**
 * `npm run bench:api`: throughput and latency of the API on a fresh local stack, against a bare
 * Hono app in the same runtime. Each scenario runs REPEATS times (interleaved, so drift hits all
 * alike); the table shows the medians. Results go to bench-results/api.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startStack } from '../../infra/local/stack';
import { Api } from '../support/api';
import { makeClone, makeMachine, makeMaster } from '../support/fixtures';
import { startBaseline } from './baseline';
import { closedLoop, median, type Sample, summarize } from './load';

const WORKERS = 8;
const SECONDS = 5;
const WARMUP_SECONDS = 1;
const REPEATS = 3;
const TRANSITIONS = 20;
const OPERATION_POLL_MS = 10;
const RESULTS = fileURLToPath(new URL('../../bench-results/api.json', import.meta.url));

const BASELINE = 'baseline: bare Hono GET /';
const GET_CLONE = 'GET /v1/clones/{id}';
const ACCEPT = 'POST attach|detach until 202';
const END_TO_END = 'attach|detach until succeeded';

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

function table(medians: Record<string, Sample>, baselineP50: number): string {
  const rows = [['scenario', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'p50 / baseline p50']];
  for (const [name, s] of Object.entries(medians))
    rows.push([
      name,
      String(Math.round(s.requests)),
      s.rps.toFixed(1),
      s.p50.toFixed(2),
      s.p99.toFixed(2),
      `${(s.p50 / baselineP50).toFixed(1)}x`,
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
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
    const load: Record<string, () => Promise<Response>> = {
      [BASELINE]: () => fetch(`${baseline.url}/`),
      [GET_CLONE]: () => fetch(`${stack.url}/v1/clones/${clone.id}`, { headers: auth }),
    };
    for (const [name, send] of Object.entries(load))
      checked(`${name} (warm-up)`, await closedLoop(send, { workers: WORKERS, seconds: WARMUP_SECONDS }));

    const runs: Record<string, Sample[]> = { [BASELINE]: [], [GET_CLONE]: [], [ACCEPT]: [], [END_TO_END]: [] };
    for (let r = 1; r <= REPEATS; r++) {
      for (const [name, send] of Object.entries(load))
        runs[name]!.push(checked(name, await closedLoop(send, { workers: WORKERS, seconds: SECONDS })));
      const { accept, e2e } = await transitions(api, clone.id, TRANSITIONS);
      runs[ACCEPT]!.push(accept);
      runs[END_TO_END]!.push(e2e);
      console.log(
        `run ${r}/${REPEATS}: ${Object.entries(runs)
          .map(([n, s]) => `${n} p50 ${s.at(-1)!.p50.toFixed(2)} ms`)
          .join('; ')}`,
      );
    }

    const medians = Object.fromEntries(
      Object.entries(runs).map(([name, samples]) => {
        const m = (k: keyof Sample) => median(samples.map((s) => s[k]));
        return [
          name,
          {
            requests: m('requests'),
            errors: m('errors'),
            seconds: m('seconds'),
            rps: m('rps'),
            p50: m('p50'),
            p99: m('p99'),
          },
        ];
      }),
    ) as Record<string, Sample>;
    const baselineP50 = medians[BASELINE]!.p50;
    console.log(
      `\nmedians of ${REPEATS} runs; load: ${WORKERS} workers x ${SECONDS} s closed loop; transitions: ${TRANSITIONS} sequential runs (req/s = one client's rate)\n`,
    );
    console.log(table(medians, baselineP50));

    await mkdir(join(RESULTS, '..'), { recursive: true });
    const ratios = Object.fromEntries(Object.entries(medians).map(([n, s]) => [n, s.p50 / baselineP50]));
    const settings = {
      workers: WORKERS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      repeats: REPEATS,
      transitions: TRANSITIONS,
    };
    const host = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model };
    await writeFile(
      RESULTS,
      `${JSON.stringify({ at: new Date().toISOString(), host, settings, medians, p50VsBaseline: ratios, runs }, null, 2)}\n`,
    );
    console.log(`\nwritten to ${RESULTS}`);
  } finally {
    for (const step of cleanup) await step().catch((e: Error) => console.error(`cleanup: ${e.message}`));
  }
}

await main();
