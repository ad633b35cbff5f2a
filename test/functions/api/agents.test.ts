/**
 * Heartbeats and progress are believed, so only the agent of that site may send them; and the last
 * admin token cannot be revoked, or nobody could make tokens again.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../../functions/app';
import { configFromEnv } from '../../../functions/config';
import { buildDeps } from '../../../functions/deps';
import { createTableInput } from '../../../functions/store/schema';
import { Api } from '../../support/api';
import { makeRepository, unique } from '../../support/fixtures';

const admin = Api.admin();

async function token(role: string, site?: string) {
  const r = await admin.post('/v1/tokens', { role, ...(site ? { site } : {}), label: `agents test ${role}` });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { token: string; id: string; site?: string };
}

describe('agent routes', () => {
  const other = unique('other').replace(/-/g, '');
  let local: { token: string };
  let otherAgent: { token: string };
  let operation: string;
  beforeAll(async () => {
    expect((await admin.post('/v1/sites', { name: other })).status).toBe(201);
    otherAgent = await token('agent', other);
    // Seen at once, so that the site never shows as a silent agent in GET /v1/health.
    expect(
      (await admin.as(otherAgent.token).call('PUT', `/v1/sites/${other}/agents/h1`, { version: 't' })).status,
    ).toBe(200);
    local = await token('agent', 'local');
    const { repo } = await makeRepository(admin);
    const r = await admin.post('/v1/masters', { name: unique('none'), repository: repo.name, path: 'none.img' });
    operation = r.body.operation;
    await admin.wait(operation);
  });
  afterAll(async () => {
    await admin.del(`/v1/sites/${other}`);
  });

  it("takes a heartbeat only from an agent token of that site, by the site's name or id", async () => {
    const site = (await admin.get('/v1/sites/local')).body;
    // The stack's own agent: a fake host would linger in the site's agents and turn silent.
    const host = Object.keys(site.agents)[0]!;
    for (const ref of ['local', site.id]) {
      const r = await admin.as(local.token).call('PUT', `/v1/sites/${ref}/agents/${host}`, { version: 'x' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const byId = await token('agent', site.id);
    expect(byId.site).toBe('local');
    expect((await admin.as(byId.token).call('PUT', `/v1/sites/local/agents/${host}`, {})).status).toBe(200);
  });

  it('refuses a heartbeat from an admin, an operator, a viewer and another site’s agent with 403', async () => {
    const before = (await admin.get(`/v1/sites/${other}`)).body;
    const callers = [admin.token, (await token('operator')).token, (await token('viewer')).token, local.token];
    for (const t of callers) {
      const r = await admin.as(t).call('PUT', `/v1/sites/${other}/agents/h1`, { version: 'fake' });
      expect(r.status, JSON.stringify(r.body)).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    const crossSite = await admin.as(local.token).call('PUT', `/v1/sites/${other}/agents/h1`, {});
    expect(crossSite.body.error.message).toContain(`only the agent of site ${other}`);
    expect((await admin.get(`/v1/sites/${other}`)).body).toEqual(before);
  });

  it('takes progress only from the agent of the operation’s site', async () => {
    const before = (await admin.get(`/v1/operations/${operation}`)).body;
    for (const t of [admin.token, (await token('operator')).token, otherAgent.token]) {
      const r = await admin.as(t).post(`/v1/operations/${operation}/progress`, { progress: 0.5, step: 'fake' });
      expect(r.status, JSON.stringify(r.body)).toBe(403);
    }
    expect((await admin.get(`/v1/operations/${operation}`)).body).toEqual(before);
    // The real agent's call: the operation has ended, so the report is dropped, not refused.
    const own = await admin.as(local.token).post(`/v1/operations/${operation}/progress`, { progress: 1 });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ accepted: false, status: 'failed' });
    const missing = await admin.as(local.token).post('/v1/operations/op-nosuchthing22/progress', { progress: 1 });
    expect(missing.status).toBe(404);
  });
});

describe('revoking the last admin token', () => {
  // A table of its own: the shared stack has admin tokens that other suites use.
  const env = { ...inject('stack').env, ENCOMPASS_TABLE: `tokens-${Date.now()}` };
  const client = new DynamoDBClient({
    endpoint: inject('stack').endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const app = createApp(() => env);
  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  let first: { secret: string; record: { id: string } };
  beforeAll(async () => {
    await client.send(new CreateTableCommand(createTableInput(env.ENCOMPASS_TABLE)));
    const deps = buildDeps(configFromEnv(env));
    first = await deps.tokens.create({ role: 'admin', createdBy: 'test' }, new Date().toISOString());
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: env.ENCOMPASS_TABLE }));
    client.destroy();
  });

  it('answers 409 last_admin saying to create another admin token first, and keeps it', async () => {
    const r = await call('DELETE', `/v1/tokens/${first.record.id}`, first.secret);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('last_admin');
    expect(r.body.error.message).toContain('create another admin token first');
    expect((await call('GET', '/v1/tokens', first.secret)).status).toBe(200);
    for (const role of ['viewer', 'admin']) {
      const made = await call('POST', '/v1/tokens', first.secret, { role });
      expect((await call('DELETE', `/v1/tokens/${made.body.id}`, first.secret)).status).toBe(200);
    }
    expect((await call('DELETE', `/v1/tokens/${first.record.id}`, first.secret)).status).toBe(409);
  });

  it('never lets both of two admins go when they revoke each other at once', async () => {
    for (let round = 0; round < 4; round++) {
      const second = (await call('POST', '/v1/tokens', first.secret, { role: 'admin' })).body;
      const [a, b] = await Promise.all([
        call('DELETE', `/v1/tokens/${second.id}`, first.secret),
        call('DELETE', `/v1/tokens/${first.record.id}`, second.token),
      ]);
      const revoked = [a, b].filter((r) => r.status === 200);
      expect(revoked.length, JSON.stringify([a, b])).toBeLessThanOrEqual(1);
      for (const r of [a, b]) expect([200, 401, 409], JSON.stringify(r.body)).toContain(r.status);
      const admins = (await buildDeps(configFromEnv(env)).tokens.list()).filter((t) => t.role === 'admin');
      expect(admins).toHaveLength(2 - revoked.length);
      // Go on with whichever admin is left as `first`.
      if (b.status === 200) first = { secret: second.token, record: { id: second.id } };
      else if (a.status !== 200) await call('DELETE', `/v1/tokens/${second.id}`, first.secret);
    }
  });
});
