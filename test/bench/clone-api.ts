/**
 * The clone methods through the full API path: POST /v1/clones until the operation has succeeded
 * (functions → Step Functions → agent → bookkeeping), on the same scratch filesystem and master as
 * the driver measurements, so the difference is what the control plane adds. Each run is split at
 * the operation's `timing` stamps (statemachines/timing.ts), so a regression shows where it is.
 *
 * `npx tsx test/bench/clone-api.ts` runs this part alone (as root: a small XFS reflink scratch
 * filesystem and a 256 MiB master; RUNS=n, METHODS=reflink,overlay), for quick looks at the latency.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../../infra/local/stack';
import { checkPrerequisites, makeScatteredMaster, makeScratchFs, removeScratchFs, settle } from './clone-fs';
import { median } from './load';

/** The segments of one run, in ms, each from one stamp to the next (the client's clock for the ends). */
export const SEGMENTS = [
  ['accept', 'POST sent → operation accepted'],
  ['start', 'accepted → execution started'],
  ['handOut', 'execution started → task handed out'],
  ['agent', 'handed out → agent done (journal + storage + report)'],
  ['toCommit', 'agent done → bookkeeping step began'],
  ['commit', 'bookkeeping step → committed'],
  ['visible', 'committed → the client has the answer'],
] as const;
export type Segment = (typeof SEGMENTS)[number][0];
export type Breakdown = Record<Segment, number>;

export interface ApiRow {
  method: string;
  apiMs: number;
  runs: number[];
  /** Median of each segment over the runs (they need not add up to the median total). */
  breakdown: Breakdown;
}

async function json(url: string, token: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/**
 * Follows the operation with `?wait=`: the answer comes as soon as it ends. FOLLOW=poll polls every
 * 5 ms instead, as clients had to before `?wait=`.
 */
async function until(url: string, token: string, operation: string): Promise<any> {
  const poll = process.env.FOLLOW === 'poll';
  for (;;) {
    const op = await json(`${url}/v1/operations/${operation}${poll ? '' : '?wait=20'}`, token);
    if (op.status !== 'running') return op;
    if (poll) await new Promise((r) => setTimeout(r, 5));
  }
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/** One run's segments; `sent` and `seen` are the client's epoch ms of its POST and of the answer. */
export function breakdownOf(timing: Record<string, string>, sent: number, seen: number): Breakdown {
  const t = [
    sent,
    ms(timing.acceptedAt),
    ms(timing.startedAt),
    ms(timing.handedOutAt),
    ms(timing.agentDoneAt),
    ms(timing.commitStartedAt),
    ms(timing.committedAt),
    seen,
  ];
  return Object.fromEntries(SEGMENTS.map(([name], i) => [name, t[i + 1]! - t[i]!])) as Breakdown;
}

export async function measureApiPath(
  repoPath: string,
  master: string,
  methods: string[],
  runs: number,
  settle: () => void,
): Promise<ApiRow[]> {
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-'));
  const stack = await startStack({ home, port: 0 });
  const { url, adminToken: token } = stack;
  try {
    const repo = await json(`${url}/v1/repositories?wait=20`, token, 'POST', {
      name: 'bench',
      site: 'local',
      kind: 'file',
      path: repoPath,
    });
    const imported = await json(`${url}/v1/masters`, token, 'POST', {
      name: 'bench-master',
      repository: repo.id,
      path: master,
      // The bench's master is scattered random data: no filesystem or partition table to recognize.
      format: 'raw',
    });
    const op = await until(url, token, imported.operation);
    if (op.status !== 'succeeded') throw new Error(`import for the API path failed: ${JSON.stringify(op.error)}`);
    const rows: ApiRow[] = [];
    for (const method of methods) {
      const times: number[] = [];
      const parts: Breakdown[] = [];
      for (let r = 0; r < runs; r++) {
        const name = `api-${method}-${r}`;
        const sent = Date.now();
        const started = performance.now();
        const accepted = await json(`${url}/v1/clones`, token, 'POST', { master: 'bench-master', name, method });
        const done = await until(url, token, accepted.operation);
        times.push(performance.now() - started);
        parts.push(breakdownOf(done.timing ?? {}, sent, Date.now()));
        if (done.status !== 'succeeded')
          throw new Error(`${method} clone through the API failed: ${JSON.stringify(done.error)}`);
        await until(url, token, (await json(`${url}/v1/clones/${name}/destroy`, token, 'POST', {})).operation);
        settle();
      }
      const breakdown = Object.fromEntries(SEGMENTS.map(([s]) => [s, median(parts.map((p) => p[s]))])) as Breakdown;
      rows.push({ method, apiMs: median(times), runs: times, breakdown });
    }
    return rows;
  } finally {
    await stack.stop();
    await rm(home, { recursive: true, force: true });
  }
}

/** The breakdown as a table: one row per segment, one column per method. */
export function breakdownTable(rows: ApiRow[]): string {
  const header = ['segment (median ms)', ...rows.map((r) => r.method)];
  const body = [
    ...SEGMENTS.map(([s, what]) => [`${s}: ${what}`, ...rows.map((r) => r.breakdown[s].toFixed(1))]),
    ['total (median of the runs)', ...rows.map((r) => r.apiMs.toFixed(1))],
  ];
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((l) => l[i]!.length)));
  const line = (l: string[]) => l.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  checkPrerequisites();
  const scratch = makeScratchFs(tmpdir(), 2 * 2 ** 30);
  try {
    await mkdir(join(scratch.mountPoint, 'masters'));
    await makeScatteredMaster(join(scratch.mountPoint, 'masters/m.img'), 256 * 2 ** 20, 16 * 2 ** 20, 4);
    const methods = (process.env.METHODS ?? 'reflink').split(',');
    const rows = await measureApiPath(
      scratch.mountPoint,
      'masters/m.img',
      methods,
      Number(process.env.RUNS ?? 10),
      () => settle(scratch),
    );
    console.log(`\nthrough the API, ${rows[0]?.runs.length} runs per method:\n${breakdownTable(rows)}`);
    console.log(JSON.stringify(rows));
  } finally {
    removeScratchFs(scratch);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
