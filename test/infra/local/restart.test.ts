/**
 * The local stack stopped and started again on the same home keeps everything it knew, ends the
 * operations the stop interrupted, and survives its agent dying in the middle of a task.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../../infra/local/stack';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster } from '../../support/fixtures';

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await probe();
    if (last !== undefined) return last;
    await sleep(250);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** Every record of a kind (one page is the whole of this suite's own stack). */
async function all(api: Api, path: string): Promise<any[]> {
  const { status, body } = await api.get(`${path}?limit=500`);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body.cursor, `${path} has more than one page`).toBeFalsy();
  return body.items;
}

const byId = (items: { id: string }[]) => new Map(items.map((i) => [i.id, i]));

/** Assigns (and optionally attaches) a clone to a machine, both by id. */
async function bind(api: Api, clone: string, machine: string, attach: boolean) {
  const assigned = await api.run(`/v1/clones/${clone}/assign`, {
    machine,
    customization: { variables: { hostname: 'restart' } },
  });
  expect(assigned.status, JSON.stringify(assigned)).toBe('succeeded');
  if (!attach) return;
  const attached = await api.run(`/v1/clones/${clone}/attach`);
  expect(attached.status, JSON.stringify(attached)).toBe('succeeded');
}

/** Starts `activate` and resolves once the agent is powering the machine on. */
async function startActivate(api: Api, clone: string): Promise<string> {
  const r = await api.post(`/v1/clones/${clone}/activate`);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const operation = r.body.operation as string;
  await waitFor('the agent starting the power-on', 15_000, async () => {
    const op = (await api.get(`/v1/operations/${operation}`)).body;
    expect(op.status, JSON.stringify(op)).toBe('running');
    return op.steps.some((s: { name: string }) => s.name === 'power_on') ? op : undefined;
  });
  return operation;
}

async function healthy(api: Api) {
  return waitFor('health ok with the agent reporting', 15_000, async () => {
    const { body } = await api.get('/v1/health');
    return body.status === 'ok' ? body : undefined;
  });
}

describe('the local stack across restarts', () => {
  const temp: string[] = [];
  let home: string;
  let first: Stack | undefined;
  let second: Stack | undefined;
  let api: Api;
  let ctx: Awaited<ReturnType<typeof makeMaster>>;
  let kept: { clone: any; machine: any };
  let interrupted: { clone: string; operation: string };
  let before: Record<'masters' | 'clones' | 'machines' | 'operations' | 'audit', any[]>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'encompass-restart-'));
    temp.push(home);
    first = await startStack({ home, port: 0 });
    const firstApi = new Api(first.url, first.adminToken);
    ctx = await makeMaster(firstApi);
    temp.push(ctx.dir);

    // A slow boot that is still going when the stack stops.
    const slow = await makeMachine(firstApi, { settings: { bootSeconds: 30 } });
    const booting = await makeClone(firstApi, ctx.master.name);
    await bind(firstApi, booting.id, slow.id, true);
    interrupted = { clone: booting.id, operation: await startActivate(firstApi, booting.id) };

    const machine = await makeMachine(firstApi);
    const clone = await makeClone(firstApi, ctx.master.name);
    await bind(firstApi, clone.id, machine.id, false);
    kept = {
      clone: (await firstApi.get(`/v1/clones/${clone.id}`)).body,
      machine: (await firstApi.get(`/v1/machines/${machine.id}`)).body,
    };

    before = {
      masters: await all(firstApi, '/v1/masters'),
      clones: await all(firstApi, '/v1/clones'),
      machines: await all(firstApi, '/v1/machines'),
      operations: await all(firstApi, '/v1/operations'),
      audit: await all(firstApi, '/v1/audit'),
    };
    const stillBooting = (await firstApi.get(`/v1/operations/${interrupted.operation}`)).body;
    expect(stillBooting.status, 'the slow activation ended before the stop; raise bootSeconds').toBe('running');

    await first.stop();
    first = undefined;
    second = await startStack({ home, port: 0 });
    api = new Api(second.url, second.adminToken);
  }, 240_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    for (const dir of temp) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('keeps the admin token file working', async () => {
    const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
    expect(token).toBe(second!.adminToken);
    const { status } = await new Api(second!.url, token).get('/v1/tokens');
    expect(status).toBe(200);
  });

  it('keeps every master, machine, operation and audit record, and the clones with their state and binding', async () => {
    expect(await all(api, '/v1/masters')).toEqual(before.masters);
    expect(await all(api, '/v1/machines')).toEqual(before.machines);
    expect((await api.get(`/v1/machines/${kept.machine.id}`)).body.clone).toBe(kept.clone.id);

    const clones = byId(await all(api, '/v1/clones'));
    for (const c of before.clones) {
      const now = clones.get(c.id);
      expect(now, `clone ${c.name}`).toMatchObject({
        name: c.name,
        status: c.status,
        metastate: c.metastate,
        binding: c.binding,
        machine: c.machine,
      });
      if (c.id !== interrupted.clone) expect(now).toEqual(c);
    }
    expect(clones.get(kept.clone.id)).toMatchObject({ binding: 'assigned', machine: kept.machine.id });

    const operations = byId(await all(api, '/v1/operations'));
    for (const op of before.operations)
      if (op.id !== interrupted.operation) expect(operations.get(op.id), `operation ${op.id}`).toEqual(op);
    const audit = byId(await all(api, '/v1/audit'));
    for (const entry of before.audit) expect(audit.get(entry.id), `audit ${entry.id}`).toEqual(entry);
  });

  it('reports health ok with the agent back', async () => {
    const health = await healthy(api);
    expect(health.components).toEqual({ dynamodb: 'ok', s3: 'ok', stepfunctions: 'ok', agents: 'ok' });
  });

  it('ends an operation that was running at the stop as failed: interrupted, and unlocks its clone', async () => {
    const op = (await api.get(`/v1/operations/${interrupted.operation}`)).body;
    expect(op).toMatchObject({ status: 'failed', error: { code: 'interrupted', reason: 'control_plane_restarted' } });
    const clone = (await api.get(`/v1/clones/${interrupted.clone}`)).body;
    expect(clone.lock).toBeUndefined();
    expect(clone).toMatchObject({
      binding: 'attached',
      lastError: { code: 'interrupted', operation: interrupted.operation },
    });
    const detached = await api.run(`/v1/clones/${interrupted.clone}/detach`);
    expect(detached.status, JSON.stringify(detached)).toBe('succeeded');
  });

  it('finishes a task whose agent was killed and came straight back, without doing it twice', async () => {
    const stack = second!;
    const machine = await makeMachine(api, { settings: { bootSeconds: 4 } });
    const clone = await makeClone(api, ctx.master.name);
    await bind(api, clone.id, machine.id, true);
    const operation = await startActivate(api, clone.id);
    const agent = stack.agent;
    process.kill(-agent.pid, 'SIGKILL');
    await agent.exited;
    // The stack starts a dead agent again by itself; restartAgent() makes it happen at once.
    await stack.restartAgent();
    const op = await api.wait(operation, 70_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    // One boot, not two: the restarted agent ran the cut-short task once more under its old token.
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({
      binding: 'active',
      metastate: 'operational',
      bootCount: 1,
    });
    expect((await api.run(`/v1/clones/${clone.id}/deactivate`)).status).toBe('succeeded');
  }, 120_000);

  it('fails a task whose agent died as agent_lost, unlocks the clone, and the restarted agent cleans up and takes new work', async () => {
    const stack = second!;
    const machine = await makeMachine(api, { settings: { bootSeconds: 60 } });
    const clone = await makeClone(api, ctx.master.name);
    await bind(api, clone.id, machine.id, true);
    const operation = await startActivate(api, clone.id);

    // A crash, not a stop: the agent has no chance to abort its task. The stack would start it
    // again; stopAgent() keeps it stopped, to play an agent that does not come back.
    const agent = stack.agent;
    process.kill(-agent.pid, 'SIGKILL');
    await agent.exited;
    await stack.stopAgent();
    const killedAt = Date.now();

    // One heartbeat timeout, one redelivery for an agent that might come back, a second timeout.
    const op = await api.wait(operation, 70_000);
    expect(Date.now() - killedAt).toBeLessThan(70_000);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'agent_lost', reason: 'agent_lost' } });
    expect(op.error.message).toContain('"local"');
    const after = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(after.lock).toBeUndefined();
    expect(after).toMatchObject({
      binding: 'attached',
      machine: machine.id,
      lastError: { code: 'agent_lost', operation },
    });

    const leftover = join(ctx.dir, '.encompass-tmp-leftover');
    await writeFile(leftover, 'half a copy');
    await stack.restartAgent();
    expect(existsSync(leftover), 'the restarted agent left the temp file in place').toBe(false);

    const fresh = await makeClone(api, ctx.master.name);
    expect(fresh).toMatchObject({ status: 'ready', binding: 'unassigned' });
    const detached = await api.run(`/v1/clones/${clone.id}/detach`);
    expect(detached.status, JSON.stringify(detached)).toBe('succeeded');
  }, 120_000);
});
