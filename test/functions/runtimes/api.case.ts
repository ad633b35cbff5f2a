/**
 * One API suite for every runtime the functions run in. Each runner supplies a `fetch` that
 * reaches the app its way (workerd, Node HTTP, Lambda events) wired to the test stack's parts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

export interface Runtime {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export function describeApiConformance(name: string, start: () => Promise<Runtime>) {
  describe(`the API in ${name}`, () => {
    let rt: Runtime;
    const token = inject('stack').adminToken;
    const call = async (method: string, path: string, body?: unknown, auth = true) => {
      const res = await rt.fetch(path, {
        method,
        headers: {
          ...(auth ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
    };

    beforeAll(async () => {
      rt = await start();
    });
    afterAll(async () => {
      await rt?.stop();
    });

    it('answers health with every part ok', async () => {
      const r = await call('GET', '/v1/health', undefined, false);
      expect(r.status).toBe(200);
      expect(r.type).toContain('application/json');
      expect(r.body.components).toMatchObject({ dynamodb: 'ok', s3: 'ok', stepfunctions: 'ok' });
    });

    it('serves the OpenAPI document', async () => {
      const r = await call('GET', '/v1/openapi.json', undefined, false);
      expect(r.body.openapi).toBe('3.1.0');
      expect(Object.keys(r.body.paths)).toContain('/v1/clones/{id}/assign');
    });

    it('refuses a request without a token with 401 and the error shape', async () => {
      const r = await call('GET', '/v1/machines', undefined, false);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    });

    it('creates, reads, changes and deletes a machine, normalizing its MAC', async () => {
      const machine = `rt-${name.replace(/\W/g, '')}-${Date.now()}`;
      const made = await call('POST', '/v1/machines', {
        name: machine,
        site: 'local',
        kind: 'sim',
        identity: { macs: ['AA-BB-CC-DD-EE-FF'] },
        credentials: { password: 'secret' },
      });
      expect(made.status).toBe(201);
      expect(made.body.identity.macs).toEqual(['aa:bb:cc:dd:ee:ff']);
      expect(JSON.stringify(made.body)).not.toContain('secret');
      const read = await call('GET', `/v1/machines/${machine}`);
      expect(read.body.id).toBe(made.body.id);
      const changed = await call('PATCH', `/v1/machines/${made.body.id}`, { cpus: 8 });
      expect(changed.body).toMatchObject({ cpus: 8, rev: 2 });
      expect((await call('DELETE', `/v1/machines/${made.body.id}`)).status).toBe(200);
      expect((await call('GET', `/v1/machines/${made.body.id}`)).status).toBe(404);
    });

    it('answers 400 with what was wrong for an invalid body', async () => {
      const r = await call('POST', '/v1/repositories', { name: 'x', site: 'local', kind: 'tape', path: 'relative' });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('body.kind');
      expect(r.body.error.message).toContain('body.path');
    });

    it("starts a workflow: the check of a repository on a missing path fails, and the repository is unreachable with the agent's reason", async () => {
      const repo = await call('POST', '/v1/repositories', {
        name: `rt-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
        site: 'local',
        kind: 'file',
        path: '/nonexistent-encompass',
      });
      expect(repo.status).toBe(201);
      expect(repo.body).toMatchObject({ status: 'checking', operation: expect.any(String) });
      let op: any;
      for (let i = 0; i < 100; i++) {
        op = (await call('GET', `/v1/operations/${repo.body.operation}`)).body;
        if (op.status !== 'running') break;
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(op.status).toBe('failed');
      expect(op.error.message).toContain('no such directory /nonexistent-encompass');
      const after = (await call('GET', `/v1/repositories/${repo.body.id}`)).body;
      expect(after).toMatchObject({ status: 'unreachable', reason: { code: 'repository_unreachable' } });
    });
  });
}
