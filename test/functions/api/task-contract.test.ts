/**
 * The task contract holds at both ends: the agent refuses a task whose input breaks it, naming the
 * field, before doing anything; the functions refuse an outcome that breaks it, naming the field,
 * and the operation fails with its reservations undone instead of committing it. The suite runs
 * its own stack: to hand the functions a malformed outcome, the test stops the agent and plays it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetActivityTaskCommand,
  ListActivitiesCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../../infra/local/stack';
import { activityArn } from '../../../statemachines/names';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';

const account = { region: 'us-east-1', accountId: '000000000000' };
let stack: Stack;
let api: Api;
let sfn: SFNClient;

beforeAll(async () => {
  stack = await startStack({ home: await mkdtemp(join(tmpdir(), 'encompass-contract-')), port: 0 });
  api = new Api(stack.url, stack.adminToken);
  sfn = new SFNClient({
    ...account,
    endpoint: stack.endpoints.stepfunctions,
    credentials: stack.stepFunctionsCredentials,
  });
});

afterAll(async () => {
  await stack?.stop();
  if (stack) await rm(stack.home, { recursive: true, force: true });
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
  let repo: string;
  let repoDir: string;
  beforeAll(async () => {
    // From here on the test is the site's agent.
    await stack.stopAgent();
    await mkdir(join(stack.home, 'repos'), { recursive: true });
    const dir = await mkdtemp(join(stack.home, 'repos', 'contract-'));
    repoDir = dir;
    repo = (await playedRepository(dir)).name;
  });

  /** A repository whose check the test answers as the agent would: its root is usable. */
  async function playedRepository(dir: string) {
    const r = await api.post('/v1/repositories', { name: unique('repo'), site: 'local', kind: 'file', path: dir });
    expect(r.status).toBe(201);
    const root = { host: 'played', freeBytes: 2 ** 30, totalBytes: 2 ** 31 };
    await answer('check', r.body.operation, { root, orphans: [], truncated: false, missing: [], removed: [] });
    const ready = (await api.get(`/v1/repositories/${r.body.id}?wait=20`)).body;
    expect(ready.status, JSON.stringify(ready.reason)).toBe('ready');
    return ready;
  }

  async function answerImport(outcome: Record<string, unknown>) {
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(account, 'local') }));
    expect(JSON.parse(task.input!)).toMatchObject({ task: 'import', input: { path: 'masters/base.img' } });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken!, output: JSON.stringify(outcome) }));
  }

  /** Takes the next task off the site's activity: it must be `task` of `operation`. */
  async function take(task: string, operation: string) {
    const t = await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(account, 'local') }));
    const envelope = JSON.parse(t.input!);
    expect(envelope).toMatchObject({ task, operation });
    return { token: t.taskToken!, input: envelope.input };
  }

  async function answer(task: string, operation: string, outcome: Record<string, unknown>) {
    const t = await take(task, operation);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: t.token, output: JSON.stringify(outcome) }));
  }

  const facts = { sizeBytes: 1024, allocatedBytes: 1024, sha256: 'a'.repeat(64), format: 'raw' };

  it('fails an import whose outcome lacks a field, naming it, and keeps no master', async () => {
    const name = unique('master');
    const r = await api.post('/v1/masters', { name, repository: repo, path: 'masters/base.img' });
    expect(r.status).toBe(202);
    const { sha256: _left, ...partial } = facts;
    await answerImport({ ...partial, filesystem: null, path: 'masters/base.img' });
    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect(op.error.message).toContain('outcome.sha256');
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
  });

  /** A master imported from masters/base.img, the agent played by the test. */
  async function importedMaster() {
    const master = unique('master');
    const imported = await api.post('/v1/masters', { name: master, repository: repo, path: 'masters/base.img' });
    await answerImport({ ...facts, filesystem: null, path: 'masters/base.img' });
    expect(await api.wait(imported.body.operation)).toMatchObject({ status: 'succeeded' });
    return master;
  }

  /** A ready clone of a new master, and the path of its image. */
  async function readyClone() {
    const master = await importedMaster();
    const name = unique('clone');
    const cloned = await api.post('/v1/clones', { master, name });
    const made = `clones/${name}.img`;
    await answer('clone', cloned.body.operation, { ...facts, method: 'sparse', path: made });
    expect(await api.wait(cloned.body.operation)).toMatchObject({ status: 'succeeded' });
    return { name, made };
  }

  it('fails a clone whose outcome does not fit, keeps no record, and has the agent remove the image it made', async () => {
    const master = await importedMaster();

    const name = unique('clone');
    const r = await api.post('/v1/clones', { master, name });
    expect(r.status).toBe(202);
    const task = await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(account, 'local') }));
    expect(JSON.parse(task.input!)).toMatchObject({ task: 'clone', operation: r.body.operation });
    const made = `clones/${name}.img`;
    const outcome = { ...facts, sha256: 'not-a-sha256', method: 'sparse', path: made };
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken!, output: JSON.stringify(outcome) }));

    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect(op.error.message).toContain('outcome.sha256');
    expect((await api.get(`/v1/clones/${name}`)).status).toBe(404);
    // The image the agent made has no record: the workflow hands it back to the agent to remove.
    const discard = await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(account, 'local') }));
    expect(JSON.parse(discard.input!)).toMatchObject({
      task: 'destroy',
      operation: r.body.operation,
      input: { image: { path: made, repository: { path: repoDir, kind: 'file' } } },
    });
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: discard.taskToken!, output: JSON.stringify({ removed: made }) }),
    );
  });

  it('fails a customize whose outcome does not fit only after the agent rolled back the range it applied', async () => {
    const { name, made } = await readyClone();

    const items = [{ type: 'file', path: '/etc/motd', content: 'hello ${hostname}\n' }];
    const r = await api.post(`/v1/clones/${name}/customize`, { items, variables: { hostname: 'c-1' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const task = await take('customize', r.body.operation);
    // The task names the document; the items reach the agent only through its URL.
    expect(task.input).toMatchObject({ from: 0, to: 1, customization: { items: 1 } });
    expect(JSON.stringify(task.input)).not.toContain('hello');
    expect(await (await fetch(task.input.customization.url)).json()).toEqual({ items, variables: { hostname: 'c-1' } });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify({ applied: 'one' }) }));

    // Before the failure is recorded, the agent gets the rollback of what the customize applied.
    const undo = await take('rollback', r.body.operation);
    expect(undo.input).toMatchObject({ from: 1, to: 0, image: { path: made } });
    expect((await api.get(`/v1/operations/${r.body.operation}`)).body.status).toBe('running');
    expect((await api.get(`/v1/clones/${name}`)).body.lock).toBe(r.body.operation);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: undo.token, output: JSON.stringify({ applied: 0 }) }));

    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect(op.error.message).toContain('outcome.applied');
    expect(op.error.message).toContain('The change to the image was undone');
    expect((await api.get(`/v1/clones/${name}`)).body.customization).toMatchObject({ applied: 0, total: 0 });
  });

  /** A ready clone of a new master, and a second repository to move it to. */
  async function cloneAndTarget() {
    const { name, made } = await readyClone();
    const dir = await mkdtemp(join(stack.home, 'repos', 'contract-to-'));
    return { name, made, to: await playedRepository(dir), dir };
  }

  it('fails a relocate whose outcome does not fit only after the agent removed its copy, the record as it was', async () => {
    const { name, made, to, dir } = await cloneAndTarget();
    const before = (await api.get(`/v1/clones/${name}`)).body;
    const r = await api.post(`/v1/clones/${name}/relocate`, { repository: to.name });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const task = await take('relocate', r.body.operation);
    expect(task.input).toMatchObject({
      source: { path: made, repository: { path: repoDir } },
      target: { path: made, repository: { id: to.id, path: dir } },
    });
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify({ ...facts, path: 7 }) }),
    );

    // The copy has no record: before the failure is recorded, the agent removes it, not the old image.
    const undo = await take('destroy', r.body.operation);
    expect(undo.input).toEqual({ image: task.input.target });
    expect((await api.get(`/v1/clones/${name}`)).body.lock).toBe(r.body.operation);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: undo.token, output: JSON.stringify({ removed: made }) }));

    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'malformed_outcome' } });
    expect(op.error.message).toContain('outcome.path');
    expect(op.error.message).toContain('The copy in the other repository was undone');
    const after = (await api.get(`/v1/clones/${name}`)).body;
    expect(after).toMatchObject({ repository: before.repository, path: made, sha256: before.sha256 });
    expect(after.lock).toBeUndefined();
  });

  it('commits a relocate whose outcome fits, then has the agent remove the old image, and ends only then', async () => {
    const { name, made, to } = await cloneAndTarget();
    const r = await api.post(`/v1/clones/${name}/relocate`, { repository: to.id });
    const task = await take('relocate', r.body.operation);
    const moved = { ...facts, sha256: 'b'.repeat(64), path: made };
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.token, output: JSON.stringify(moved) }));

    const release = await take('destroy', r.body.operation);
    expect(release.input).toEqual({ image: task.input.source });
    // Switched, and still held: nothing else may act on the clone while its old image goes.
    const switched = (await api.get(`/v1/clones/${name}`)).body;
    expect(switched).toMatchObject({ repository: to.id, path: made, sha256: 'b'.repeat(64), lock: r.body.operation });
    expect((await api.get(`/v1/operations/${r.body.operation}`)).body).toMatchObject({ status: 'running' });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: release.token, output: JSON.stringify({ removed: made }) }));

    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ status: 'succeeded', result: { released: true, to: { repository: to.id } } });
    expect((await api.get(`/v1/clones/${name}`)).body.lock).toBeUndefined();
  });

  it('commits an import whose outcome fits', async () => {
    const name = unique('master');
    const r = await api.post('/v1/masters', { name, repository: repo, path: 'masters/base.img' });
    await answerImport({ ...facts, filesystem: null, path: 'masters/base.img' });
    expect(await api.wait(r.body.operation)).toMatchObject({ status: 'succeeded' });
    expect((await api.get(`/v1/masters/${name}`)).body).toMatchObject({ status: 'ready', ...facts });
  });
});

describe('sites', () => {
  it('deletes a site once it holds no repository, with its workflows', async () => {
    const site = unique('gone').replace(/-/g, '');
    expect((await api.post('/v1/sites', { name: site })).status).toBe(201);
    const r = await api.createRepository({ name: unique('repo'), site, kind: 'file', path: stack.home });
    const refused = await api.del(`/v1/sites/${site}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('delete them first');
    expect((await api.del(`/v1/repositories/${r.body.name}`)).status).toBe(200);
    expect((await api.del(`/v1/sites/${site}`)).status).toBe(200);
    expect((await api.get(`/v1/sites/${site}`)).status).toBe(404);
    expect(Object.keys((await api.get('/v1/health')).body.components.agents)).not.toContain(site);
    const left = await sfn.send(new ListStateMachinesCommand({}));
    expect(left.stateMachines!.map((m) => m.name)).toContain('encompass-local-clone');
    expect(left.stateMachines!.filter((m) => m.name!.startsWith(`encompass-${site}-`))).toEqual([]);
    const activities = await sfn.send(new ListActivitiesCommand({}));
    expect(activities.activities!.map((a) => a.name)).not.toContain(`encompass-${site}-agent`);
  });
});
