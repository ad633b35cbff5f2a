/**
 * The agent's own process (edge-agent/bin.mjs, as `encompass-agent` runs it) stops within 2 s of
 * SIGTERM in every state: backing off from an unreachable control plane, long-polling, or with a
 * task in hand. A task cut short is aborted (its partial output removed), not reported, and kept in
 * the journal, so the next start resumes it; one cut short by every start fails as `interrupted`.
 * Step Functions is the local endpoint, in this process; the control plane's HTTP API is absent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESUMES } from '../../edge-agent/agent';
import { freePort } from '../../infra/local/ports';
import { startStepFunctions } from '../../infra/local/stepfunctions/index';
import { activityArn } from '../../statemachines/names';
import { tempDir } from '../infra/local/helpers';

const BIN = fileURLToPath(new URL('../../edge-agent/bin.mjs', import.meta.url));
const account = { region: 'us-east-1', accountId: '000000000000' };

interface Run {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runAgent(config: string): Run {
  const proc = spawn(process.execPath, [BIN, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return { proc, output: () => out, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

/** Sends SIGTERM and resolves with how long the process took to exit. */
async function stopTime(run: Run): Promise<number> {
  const t0 = Date.now();
  run.proc.kill('SIGTERM');
  await run.exited;
  return Date.now() - t0;
}

describe('the agent process on SIGTERM', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let sfn: Awaited<ReturnType<typeof startStepFunctions>>;
  let client: SFNClient;
  const runs: Run[] = [];
  const config = (dir: string, stepFunctionsEndpoint: string) => ({
    site: 'stop',
    api: 'http://127.0.0.1:9', // nothing listens: progress and liveness reports fail, as they may
    token: 'enc_test',
    stepFunctionsEndpoint,
    credentials: sfn.credentials,
    stateDir: join(dir, 'state'),
    heartbeatSeconds: 2,
  });
  const start = (file: string) => {
    const run = runAgent(file);
    runs.push(run);
    return run;
  };

  beforeAll(async () => {
    home = await tempDir('agent-stop');
    sfn = await startStepFunctions({
      port: 0,
      invokeFunction: async () => {
        throw new Error('no functions here');
      },
    });
    client = new SFNClient({ ...account, endpoint: sfn.endpoint, credentials: sfn.credentials });
    await client.send(new CreateActivityCommand({ name: 'encompass-stop-agent' }));
  });

  afterAll(async () => {
    for (const r of runs) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await sfn?.stop();
    await home?.remove();
  });

  it('exits within 2 s while it backs off from an unreachable Step Functions endpoint', async () => {
    const file = join(home.path, 'unreachable.json');
    await writeFile(
      file,
      JSON.stringify(config(join(home.path, 'unreachable'), `http://127.0.0.1:${await freePort()}`)),
    );
    const run = start(file);
    await until('a back-off of 4 s', () => run.output().includes('retrying in 4 s'));
    expect(await stopTime(run)).toBeLessThan(2000);
    expect(await run.exited).toBe(0);
  }, 60_000);

  it('exits within 2 s while it long-polls for a task', async () => {
    const file = join(home.path, 'idle.json');
    await writeFile(file, JSON.stringify(config(join(home.path, 'idle'), sfn.endpoint)));
    const run = start(file);
    await until('polling', () => run.output().includes('polling '));
    await sleep(500);
    expect(await stopTime(run)).toBeLessThan(2000);
  }, 60_000);

  it('aborts a task in hand, removes its partial output, reports nothing, and resumes it at the next start', async () => {
    const dir = join(home.path, 'busy');
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'clones'), { recursive: true });
    // A sparse master that takes seconds to stream through sha256 and costs no disk until copied.
    await writeFile(join(repo, 'master.img'), '');
    await truncate(join(repo, 'master.img'), 8 * 1024 ** 3);
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify(config(dir, sfn.endpoint)));
    const repository = { id: 'rp-stop', kind: 'file', path: repo };
    const { stateMachineArn } = await client.send(
      new CreateStateMachineCommand({
        name: 'stop-clone',
        roleArn: 'arn:aws:iam::000000000000:role/encompass-statemachines',
        definition: JSON.stringify({
          StartAt: 'Agent',
          States: {
            Agent: {
              Type: 'Task',
              Resource: activityArn(account, 'stop'),
              Parameters: {
                task: 'clone',
                operation: 'op-stop-1',
                input: {
                  source: { repository, path: 'master.img' },
                  target: { repository, path: 'clones/c1.img' },
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
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    const temps = async () => (await readdir(join(repo, 'clones'))).filter((n) => n.startsWith('.encompass-tmp-'));
    const journalEntry = async () =>
      JSON.parse(await readFile(join(dir, 'state/journal/op-stop-1.clone.json'), 'utf8')) as {
        status: string;
        reported?: boolean;
        resumes?: number;
      };
    const history = async () =>
      (await client.send(new GetExecutionHistoryCommand({ executionArn }))).events!.map((e) => e.type);

    // Each start resumes the task, and each stop cuts it short again.
    for (let resume = 0; resume <= MAX_RESUMES; resume++) {
      const run = start(file);
      await until('the copy under way', async () => (await temps()).length > 0 || undefined);
      if (resume > 0) expect(run.output()).toContain(`running it again (resume ${resume})`);
      const ms = await stopTime(run);
      expect(ms, run.output()).toBeLessThan(2000);
      expect(await temps(), 'partial copy left behind').toEqual([]);
      expect(existsSync(join(repo, 'clones/c1.img'))).toBe(false);
      expect(await journalEntry()).toMatchObject({ status: 'running', resumes: resume });
      expect((await journalEntry()).reported).toBeUndefined();
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      expect(described.status).toBe('RUNNING');
      expect(await history()).not.toContain('ActivityFailed');
    }

    // Cut short by every start: the next one fails it instead of running it once more.
    const last = start(file);
    const ended = await until('the execution to end', async () => {
      const d = await client.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    });
    expect(ended).toMatchObject({ status: 'FAILED', error: 'interrupted' });
    expect(JSON.parse(ended.cause!)).toMatchObject({ code: 'interrupted', reason: 'agent_restarted' });
    // The journal notes the report once Step Functions has taken it, a moment after the execution ends.
    await until('the journal to note the report', async () => ((await journalEntry()).reported ? true : undefined));
    expect(await journalEntry()).toMatchObject({ status: 'failed', reported: true });
    expect(await stopTime(last)).toBeLessThan(2000);
    await rm(join(repo, 'master.img'));
  }, 120_000);
});
