/**
 * `npm run bench:supervise`: how long the supervised stack takes to stop with work in hand (npm
 * start, clones being copied, Ctrl-C), to have each child back after kill -9, and how long the agent
 * takes to exit on SIGTERM in back-off, in a long poll and with a task in hand. Medians of RUNS runs
 * (default 3); PARTS picks some of the three measurements.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { freePort } from '../../infra/local/ports';
import { isRunning, type ProcessRef } from '../../infra/local/procs';
import { CHILDREN, startStack } from '../../infra/local/stack';
import { startStepFunctions } from '../../infra/local/stepfunctions/index';
import { activityArn } from '../../statemachines/names';
import { median } from './load';

const RUNS = Number(process.env.RUNS ?? 3);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'edge-agent/bin.mjs');
const MASTER_BYTES = 3 * 1024 ** 3;

async function until<T>(ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
    const v = await Promise.resolve(probe()).catch(() => undefined);
    if (v !== undefined) return v;
  }
  throw new Error(`nothing after ${ms} ms`);
}

async function api(url: string, token: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

async function zeroMaster(dir: string): Promise<void> {
  await mkdir(join(dir, 'masters'), { recursive: true });
  await writeFile(join(dir, 'masters/zero.img'), '');
  await truncate(join(dir, 'masters/zero.img'), MASTER_BYTES);
}

const copying = async (repo: string) =>
  (await readdir(join(repo, 'clones')).catch(() => [])).some((n) => n.startsWith('.encompass-tmp-'));

/** npm start, four copies under way, Ctrl-C to the group: ms until the stack and every child are gone. */
async function stopWithWorkInHand(): Promise<number> {
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-stop-'));
  const repo = await mkdtemp(join(tmpdir(), 'encompass-bench-repo-'));
  const port = await freePort();
  try {
    await zeroMaster(repo);
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, ENCOMPASS_HOME: home, ENCOMPASS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    npm.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await until(180_000, () => (out.includes('ENCOMPASS is up') ? true : undefined));
    const record = JSON.parse(await readFile(join(home, 'stack.json'), 'utf8'));
    const procs: ProcessRef[] = [
      { pid: record.pid, startTicks: record.startTicks, tag: 'start.ts' },
      ...(Object.values(record.children) as ProcessRef[]),
    ];
    const url = `http://127.0.0.1:${port}`;
    const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
    await api(url, token, '/v1/repositories?wait=20', { name: 'nas', site: 'local', kind: 'file', path: repo });
    const imp = await api(url, token, '/v1/masters', {
      name: 'zero',
      repository: 'nas',
      path: 'masters/zero.img',
      format: 'raw',
    });
    await until(120_000, async () =>
      (await api(url, token, `/v1/operations/${imp.operation}`)).status === 'succeeded' ? true : undefined,
    );
    for (let i = 0; i < 4; i++) await api(url, token, '/v1/clones', { master: 'zero', name: `c${i}`, method: 'copy' });
    await until(60_000, async () => ((await copying(repo)) ? true : undefined));
    const t0 = Date.now();
    process.kill(-npm.pid!, 'SIGINT');
    await until(30_000, () => (procs.every((p) => !isRunning(p)) ? true : undefined));
    return Date.now() - t0;
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  }
}

/**
 * kill -9 of each child, on RUNS stacks: ms until the stack has it back (ready, recorded). A stack of its
 * own per run, so that every kill meets the first back-off (0.5 s), as a lone crash does; a second crash
 * within a minute waits twice as long.
 */
async function restartTimes(): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(CHILDREN.map((c) => [c, []]));
  for (let run = 0; run < RUNS; run++) {
    const home = await mkdtemp(join(tmpdir(), 'encompass-bench-restart-'));
    const stack = await startStack({ home, port: 0 });
    try {
      for (const name of CHILDREN) {
        const before = stack.processes()[name]!;
        const t0 = Date.now();
        process.kill(before.pid, 'SIGKILL');
        await until(120_000, () => {
          const now = stack.processes()[name];
          return now && now.pid !== before.pid ? now : undefined;
        });
        out[name]!.push(Date.now() - t0);
        // Let the part settle (the agent reports itself, the stores answer) before the next kill.
        await until(60_000, async () => ((await api(stack.url, '', '/v1/health')).status === 'ok' ? true : undefined));
      }
    } finally {
      await stack.stop();
      await rm(home, { recursive: true, force: true });
    }
  }
  return out;
}

/** The agent's process on SIGTERM: in back-off, idle in a long poll, and with a copy in hand. */
async function agentSigterm(): Promise<Record<string, number[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'encompass-bench-agent-'));
  const sfn = await startStepFunctions({ port: 0, invokeFunction: async () => ({}) });
  const out: Record<string, number[]> = { 'back-off': [], 'long poll': [], 'copy in hand': [] };
  const sfnClient = new SFNClient({
    region: 'us-east-1',
    endpoint: sfn.endpoint,
    credentials: sfn.credentials,
  });
  await sfnClient.send(new CreateActivityCommand({ name: 'encompass-bench-agent' }));
  const repo = join(dir, 'repo');
  await zeroMaster(repo);
  const repository = { id: 'rp-bench', kind: 'file', path: repo };
  /** Hands the agent a copy of the master: the task it has in hand at the SIGTERM. */
  const copyTask = async (operation: string) => {
    const { stateMachineArn } = await sfnClient.send(
      new CreateStateMachineCommand({
        name: operation,
        roleArn: 'arn:aws:iam::000000000000:role/encompass-statemachines',
        definition: JSON.stringify({
          StartAt: 'Agent',
          States: {
            Agent: {
              Type: 'Task',
              Resource: activityArn({ region: 'us-east-1', accountId: '000000000000' }, 'bench'),
              Parameters: {
                task: 'clone',
                operation,
                input: {
                  source: { repository, path: 'masters/zero.img' },
                  target: { repository, path: `clones/${operation}.img` },
                  method: 'copy',
                },
              },
              HeartbeatSeconds: 20,
              TimeoutSeconds: 600,
              End: true,
            },
          },
        }),
      }),
    );
    await sfnClient.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
  };
  const run = async (endpoint: string, ready: string, inHand?: string) => {
    const file = join(dir, `agent-${Math.random()}.json`);
    await writeFile(
      file,
      JSON.stringify({
        site: 'bench',
        api: 'http://127.0.0.1:9',
        token: 'enc_bench',
        stepFunctionsEndpoint: endpoint,
        credentials: sfn.credentials,
        stateDir: join(dir, 'state'),
      }),
    );
    const proc: ChildProcess = spawn(process.execPath, [BIN, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    proc.stdout!.on('data', (c: Buffer) => {
      said += c.toString();
    });
    const exited = new Promise((r) => proc.once('exit', r));
    await until(60_000, () => (said.includes(ready) ? true : undefined));
    if (inHand) {
      await copyTask(inHand);
      await until(60_000, async () => ((await copying(repo)) ? true : undefined));
    }
    await sleep(300);
    const t0 = Date.now();
    proc.kill('SIGTERM');
    await exited;
    return Date.now() - t0;
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      out['back-off']!.push(await run(`http://127.0.0.1:${await freePort()}`, 'retrying in 4 s'));
      out['long poll']!.push(await run(sfn.endpoint, 'polling '));
      out['copy in hand']!.push(await run(sfn.endpoint, 'polling ', `op-bench-${i}`));
    }
  } finally {
    await sfn.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

/** Which measurements to take (PARTS=stop,restart,agent, the default, takes all). */
const PARTS = new Set((process.env.PARTS ?? 'stop,restart,agent').split(','));
if (PARTS.has('stop')) {
  const stops: number[] = [];
  for (let i = 0; i < RUNS; i++) stops.push(await stopWithWorkInHand());
  console.log(`stop with 4 copies in hand (npm start, Ctrl-C): median ${median(stops)} ms (${stops.join(', ')})`);
}
if (PARTS.has('restart'))
  for (const [name, ms] of Object.entries(await restartTimes()))
    console.log(`${name} back after kill -9: median ${median(ms)} ms (${ms.join(', ')})`);
if (PARTS.has('agent'))
  for (const [state, ms] of Object.entries(await agentSigterm()))
    console.log(`agent exit on SIGTERM, ${state}: median ${median(ms)} ms (${ms.join(', ')})`);
