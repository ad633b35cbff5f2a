/**
 * Following an operation without polling: `?wait=` answers once the operation ended, and every
 * operation tells where its time went (`timing`, statemachines/timing.ts).
 */
import { describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeMaster, unique } from '../../support/fixtures';

const admin = Api.admin();

describe('GET /v1/operations/{id}?wait=', () => {
  it('answers with the ended operation, its timing stamped in order', async () => {
    const { master } = await makeMaster(admin);
    const accepted = await admin.post('/v1/clones', { master: master.name, name: unique('wait') });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    let op = (await admin.get(`/v1/operations/${accepted.body.operation}?wait=20`)).body;
    // A clone takes far less than 20 s here; a second wait covers a machine that is very slow.
    if (op.status === 'running') op = (await admin.get(`/v1/operations/${accepted.body.operation}?wait=20`)).body;
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const t = op.timing;
    const order = [
      t.acceptedAt,
      t.startedAt,
      t.handedOutAt,
      t.agentDoneAt,
      t.commitStartedAt,
      t.committedAt,
      t.visibleAt,
    ].map((at: string) => Date.parse(at));
    expect(order.every(Number.isFinite), JSON.stringify(t)).toBe(true);
    // One host, one clock: each moment comes no earlier than the one before it.
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('answers a running operation once the time is up', async () => {
    const { master } = await makeMaster(admin);
    const accepted = await admin.post('/v1/clones', { master: master.name, name: unique('wait'), method: 'copy' });
    const op = (await admin.get(`/v1/operations/${accepted.body.operation}?wait=1`)).body;
    expect(['running', 'succeeded']).toContain(op.status);
    if (op.status === 'running') expect(op.timing.visibleAt).toBeUndefined();
    await admin.wait(accepted.body.operation);
  });

  it.each(['0', '21', '1.5', 'soon', '-3'])('refuses wait=%s with a 400 that names the range', async (wait) => {
    const r = await admin.get(`/v1/operations/op-none?wait=${wait}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/from 1 to 20/);
  });

  it('describes the wait and the timing in the OpenAPI document', async () => {
    const doc = (await admin.get('/v1/openapi.json')).body;
    const get = doc.paths['/v1/operations/{id}'].get;
    expect(get.parameters.map((p: { name: string }) => p.name)).toContain('wait');
    // The answer may be a named component: `{ $ref: '#/components/…' }`, followed to its schema.
    const deref = (x: any): any =>
      x?.$ref
        ? deref(
            x.$ref
              .slice(2)
              .split('/')
              .reduce((o: any, k: string) => o[k], doc),
          )
        : x;
    const schema = deref(deref(get.responses['200']).content['application/json'].schema);
    expect(Object.keys(deref(schema.properties.timing).properties)).toEqual(
      expect.arrayContaining(['acceptedAt', 'startedAt', 'handedOutAt', 'agentDoneAt', 'committedAt', 'visibleAt']),
    );
  });
});
