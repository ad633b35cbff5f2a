/**
 * The task contract holds at both ends: the agent refuses a task whose input breaks it, naming the
 * field, before doing anything; the functions refuse an outcome that breaks it, naming the field,
 * and the operation fails with its reservations undone instead of committing it.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetActivityTaskCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { activityArn } from '../../../statemachines/names';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';

const stack = inject('stack');
const api = Api.admin();
const account = { region: 'us-east-1', accountId: '000000000000' };
const sfn = new SFNClient({
  ...account,
  endpoint: stack.endpoints.stepfunctions,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** Hands the site's agent one task with these Parameters and returns how its execution ended. */
async function runOnAgent(parameters: Record<string, unknown>) {
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: unique('contract'),
      roleArn: 'arn:aws:iam::000000000000:role/encompass-statemachines',
      definition: JSON.stringify({
        StartAt: 'Agent',
        States: {
          Agent: {
            Type: 'Task',
            Resource: activityArn(account, 'local'),
            Parameters: parameters,
            TimeoutSeconds: 30,
            End: true,
          },
        },
      }),
    }),
  );
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
  }
  throw new Error(`execution ${executionArn} still running after 30 s`);
}

describe('the agent checks every task against its contract', () => {
  it('refuses a clone whose input lacks a field, naming it', async () => {
    const out = await runOnAgent({
      task: 'clone',
      operation: unique('op-contract'),
      input: { source: { path: 'masters/x.img' }, target: { path: 'clones/y' }, method: 'auto' },
    });
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('malformed_task');
    expect(JSON.parse(out.cause!).message).toContain('input.source.repository');
  });

  it('refuses a task it has no contract for, listing the ones it knows', async () => {
    const out = await runOnAgent({ task: 'format_disk', operation: unique('op-contract'), input: {} });
    expect(out).toMatchObject({ status: 'FAILED', error: 'unknown_task' });
    expect(JSON.parse(out.cause!).message).toContain('power_on');
  });

  it('refuses an activity input that is not a task envelope', async () => {
    const out = await runOnAgent({ operation: unique('op-contract'), input: {} });
    expect(out).toMatchObject({ status: 'FAILED', error: 'malformed_task' });
    expect(JSON.parse(out.cause!).message).toContain('task.task');
  });
});

describe('the functions check every outcome against its contract', () => {
  /** A site with no agent: the test takes its tasks itself, acting as an agent. */
  async function siteWithoutAgent() {
    const site = unique('contract').replace(/-/g, '');
    expect((await api.post('/v1/sites', { name: site })).status).toBe(201);
    await mkdir(join(stack.home, 'repos'), { recursive: true });
    const dir = await mkdtemp(join(stack.home, 'repos', 'contract-'));
    const repo = await api.post('/v1/repositories', { name: unique('repo'), site, kind: 'file', path: dir });
    expect(repo.status).toBe(201);
    return { site, repo: repo.body };
  }

  async function answerImport(site: string, outcome: Record<string, unknown>) {
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(account, site) }));
    expect(JSON.parse(task.input!)).toMatchObject({ task: 'import', input: { path: 'masters/base.img' } });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken!, output: JSON.stringify(outcome) }));
  }

  const facts = { sizeBytes: 1024, allocatedBytes: 1024, sha256: 'a'.repeat(64), format: 'raw' };

  it('fails an import whose outcome lacks a field, naming it, and keeps no master', async () => {
    const { site, repo } = await siteWithoutAgent();
    const name = unique('master');
    const r = await api.post('/v1/masters', { name, repository: repo.name, path: 'masters/base.img' });
    expect(r.status).toBe(202);
    const { sha256: _left, ...partial } = facts;
    await answerImport(site, { ...partial, filesystem: null, path: 'masters/base.img' });
    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect(op.error.message).toContain('outcome.sha256');
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
  });

  it('commits an import whose outcome fits', async () => {
    const { site, repo } = await siteWithoutAgent();
    const name = unique('master');
    const r = await api.post('/v1/masters', { name, repository: repo.name, path: 'masters/base.img' });
    await answerImport(site, { ...facts, filesystem: null, path: 'masters/base.img' });
    expect(await api.wait(r.body.operation)).toMatchObject({ status: 'succeeded' });
    expect((await api.get(`/v1/masters/${name}`)).body).toMatchObject({ status: 'ready', ...facts });
  });
});
