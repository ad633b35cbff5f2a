/**
 * The clone methods through the full API path: POST /v1/clones until the operation has succeeded
 * (functions → Step Functions → agent → bookkeeping), on the same scratch filesystem and master as
 * the driver measurements, so the difference is what the control plane adds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../../infra/local/stack';
import { median } from './load';

export interface ApiRow {
  method: string;
  apiMs: number;
  runs: number[];
}

async function json(url: string, token: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** Polls the operation every 5 ms: the measurement's resolution. */
async function until(url: string, token: string, operation: string): Promise<any> {
  for (;;) {
    const op = await json(`${url}/v1/operations/${operation}`, token);
    if (op.status !== 'running') return op;
    await new Promise((r) => setTimeout(r, 5));
  }
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
    const repo = await json(`${url}/v1/repositories`, token, 'POST', {
      name: 'bench',
      site: 'local',
      kind: 'file',
      path: repoPath,
    });
    const imported = await json(`${url}/v1/masters`, token, 'POST', {
      name: 'bench-master',
      repository: repo.id,
      path: master,
      // Random bytes: no filesystem or partition table to recognise a disk by.
      format: 'raw',
    });
    const op = await until(url, token, imported.operation);
    if (op.status !== 'succeeded') throw new Error(`import for the API path failed: ${JSON.stringify(op.error)}`);
    const rows: ApiRow[] = [];
    for (const method of methods) {
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const name = `api-${method}-${r}`;
        const started = performance.now();
        const accepted = await json(`${url}/v1/clones`, token, 'POST', { master: 'bench-master', name, method });
        const done = await until(url, token, accepted.operation);
        times.push(performance.now() - started);
        if (done.status !== 'succeeded')
          throw new Error(`${method} clone through the API failed: ${JSON.stringify(done.error)}`);
        await until(url, token, (await json(`${url}/v1/clones/${name}/destroy`, token, 'POST', {})).operation);
        settle();
      }
      rows.push({ method, apiMs: median(times), runs: times });
    }
    return rows;
  } finally {
    await stack.stop();
    await rm(home, { recursive: true, force: true });
  }
}
