/**
 * A child of the stack that dies (kill -9) is started again by the stack, which keeps serving: the
 * API answers, a clone in flight ends as it should (the agent's task is resumed by its journal; the
 * workflow's bookkeeping steps retry while their part is down), and nothing is left behind: no
 * operation still running, no file in the repository without its record.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../../infra/local/procs';
import { type ChildName, type Stack, startStack } from '../../../infra/local/stack';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';
import { tempDir } from './helpers';
import { until } from './stack-process';

/** The master: preallocated zeros, so a `sparse` clone reads seconds of them (no disk I/O) and writes nothing. */
const MASTER_BYTES = 3 * 1024 ** 3;

describe('a supervised stack', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let stack: Stack;
  let api: Api;
  let repo: { dir: string; name: string };
  const lines: string[] = [];

  beforeAll(async () => {
    home = await tempDir('supervise');
    stack = await startStack({ home: home.path, port: 0, log: (l) => lines.push(l) });
    api = new Api(stack.url, stack.adminToken);
    const dir = join(home.path, 'repo');
    await mkdir(join(dir, 'masters'), { recursive: true });
    // Preallocated: its extents read as zeros without disk I/O, so a sparse clone reads them all and writes none.
    execFileSync('fallocate', ['-l', String(MASTER_BYTES), join(dir, 'masters/zero.img')]);
    const name = unique('repo');
    expect((await api.createRepository({ name, site: 'local', kind: 'file', path: dir })).status).toBe(201);
    repo = { dir, name };
    const imported = await api.run('/v1/masters', {
      name: 'zero',
      repository: name,
      path: 'masters/zero.img',
      format: 'raw',
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
  }, 240_000);

  afterEach((ctx) => {
    // What the stack said, for a failure's diagnosis.
    if (ctx.task.result?.state === 'fail') console.log(lines.slice(-40).join('\n'));
  });

  afterAll(async () => {
    await stack?.stop();
    await home?.remove();
  }, 60_000);

  /** Starts a clone and resolves once the agent is copying it. */
  async function cloneUnderWay(): Promise<string> {
    const r = await api.post('/v1/clones', { master: 'zero', name: unique('c'), method: 'sparse' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    await until('the copy under way', 30_000, async () =>
      (await readdir(join(repo.dir, 'clones')).catch(() => [])).some((n) => n.startsWith('.encompass-tmp-'))
        ? true
        : undefined,
    );
    return r.body.operation as string;
  }

  /** Kills a child with SIGKILL (again, if it is dead already); resolves with how long the stack took to have a new one. */
  async function killAndWaitForRestart(name: ChildName, before = stack.processes()[name]): Promise<number> {
    expect(before, `${name} runs`).toBeDefined();
    const t0 = Date.now();
    if (isRunning(before!)) process.kill(before!.pid, 'SIGKILL');
    await until(`${name} started again`, 60_000, async () => {
      const now = stack.processes()[name];
      return now && now.pid !== before!.pid && !isRunning(before!) ? now : undefined;
    });
    return Date.now() - t0;
  }

  async function healthy(ms = 60_000) {
    return until('health ok', ms, async () => {
      const { body } = await api.get('/v1/health');
      return body.status === 'ok' ? body : undefined;
    });
  }

  /** No operation left running, and every file in the repository is a clone's or its sidecar. */
  async function nothingLeftBehind() {
    const ops = (await api.get('/v1/operations?limit=500')).body.items as { id: string; status: string }[];
    expect(ops.filter((o) => o.status === 'running').map((o) => o.id)).toEqual([]);
    const clones = (await api.get('/v1/clones?limit=500')).body.items as { path: string; status: string }[];
    const recorded = new Set(clones.filter((c) => c.status !== 'destroyed').map((c) => c.path));
    const files = (await readdir(join(repo.dir, 'clones')).catch(() => [] as string[])).map((n) => `clones/${n}`);
    // A recorded image may have its sidecar beside it (`<image>.encompass`: undo records, who made it).
    expect(files.filter((f) => !recorded.has(f) && !recorded.has(f.replace(/\.encompass$/, '')))).toEqual([]);
  }

  for (const name of ['S3 server', 'workerd', 'edge agent'] as const)
    it(`starts ${name} again after kill -9, keeps answering, and the clone in flight succeeds`, async () => {
      const operation = await cloneUnderWay();
      const restartMs = await killAndWaitForRestart(name);
      lines.push(`measured: ${name} back ${restartMs} ms after kill -9`);
      expect((await api.get('/v1/health')).status).toBe(200);
      const op = await api.wait(operation, 120_000);
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      if (name === 'edge agent') {
        // Cut short mid-copy, the task was resumed by the restarted agent's journal.
        const log = await readFile(join(home.path, 'logs/agent.log'), 'utf8');
        expect(log).toContain(`clone ${operation}: interrupted by the last stop; running it again`);
      }
      await healthy();
      await nothingLeftBehind();
    }, 180_000);

  it('starts DynamoDB Local again after kill -9, and a commit that failed meanwhile is retried by its state machine', async () => {
    const operation = await cloneUnderWay();
    const op0 = (await api.get(`/v1/operations/${operation}`)).body;
    // Hung first, so that the copy ends and its commit waits on it; killed then, the commit fails.
    const db = stack.processes()['DynamoDB Local']!;
    process.kill(db.pid, 'SIGSTOP');
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: stack.endpoints.stepfunctions,
      credentials: stack.stepFunctionsCredentials,
    });
    const history = async () =>
      (await sfn.send(new GetExecutionHistoryCommand({ executionArn: op0.executionArn }))).events!.map((e) => e.type);
    try {
      await until('the copy done and its commit under way', 120_000, async () =>
        (await history()).includes('LambdaFunctionStarted') ? true : undefined,
      );
    } finally {
      process.kill(db.pid, 'SIGKILL');
    }
    const restartMs = await killAndWaitForRestart('DynamoDB Local', db);
    lines.push(`measured: DynamoDB Local back ${restartMs} ms after kill -9`);
    const op = await api.wait(operation, 120_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    // The commit writes the operation before its step returns: the execution ends a moment later.
    const types = await until('the execution ended', 30_000, async () => {
      const t = await history();
      return t.some((x) => x?.startsWith('Execution') && x !== 'ExecutionStarted') ? t : undefined;
    });
    expect(types, 'no step failed while DynamoDB Local was down').toContain('LambdaFunctionFailed');
    expect(types.lastIndexOf('LambdaFunctionSucceeded')).toBeGreaterThan(types.indexOf('LambdaFunctionFailed'));
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    await healthy();
    await nothingLeftBehind();
  }, 240_000);

  it('makes the functions anew, with back-off, when workerd cannot be started again on its port', async () => {
    const before = stack.processes().workerd!;
    const port = Number(new URL(stack.url).port);
    process.kill(before.pid, 'SIGKILL');
    // Take the port before Miniflare starts workerd again (it tries within ~100 ms), and hold it.
    let squatter: Server | undefined;
    for (const end = Date.now() + 2000; !squatter && Date.now() < end; ) {
      // It answers nothing: a connection that reaches it (the port may be shared) is dropped.
      const s = createServer((socket) => socket.destroy());
      squatter = await new Promise<Server | undefined>((resolve) => {
        s.once('error', () => resolve(undefined));
        s.listen(port, '127.0.0.1', () => resolve(s));
      });
    }
    expect(squatter, 'could not take the port; Miniflare was faster').toBeDefined();
    await until('the failed restart noticed', 10_000, async () =>
      lines.some((l) => l.includes("making the functions' runtime anew")) ? true : undefined,
    );
    await sleep(1500);
    await new Promise((r) => squatter!.close(r));
    const health = await healthy();
    expect(health.components.dynamodb).toBe('ok');
    expect(stack.processes().workerd?.pid).not.toBe(before.pid);
    expect(lines.some((l) => l.includes('the functions serve again'))).toBe(true);
  }, 120_000);
});
