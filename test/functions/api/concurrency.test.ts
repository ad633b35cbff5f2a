/** Races: concurrent assigns end with exactly one winner and never a double binding. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster } from '../../support/fixtures';

const api = Api.admin();
const vars = { customization: { variables: { hostname: 'race' } } };

describe('concurrent requests', () => {
  let master: string;
  beforeAll(async () => {
    master = (await makeMaster(api)).master.id;
  });

  it('two clones assigned to one machine at once: one wins, the other gets 409', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([makeClone(api, master), makeClone(api, master)]);
      const machine = await makeMachine(api);
      const replies = await Promise.all(
        [a, b].map((c) => api.post(`/v1/clones/${c.id}/assign`, { machine: machine.id, ...vars })),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(replies.map((r) => r.body))).toEqual([202, 409]);
      const loser = replies.find((r) => r.status === 409)!;
      expect(['machine_taken', 'busy']).toContain(loser.body.error.code);
      const winner = replies.find((r) => r.status === 202)!;
      const won = await api.wait(winner.body.operation);
      expect(won.status, JSON.stringify(won.error)).toBe('succeeded');
      const m = (await api.get(`/v1/machines/${machine.id}`)).body;
      const clones = await Promise.all([a, b].map(async (c) => (await api.get(`/v1/clones/${c.id}`)).body));
      const bound = clones.filter((c) => c.binding === 'assigned');
      expect(bound).toHaveLength(1);
      expect(m.clone).toBe(bound[0].id);
      expect(clones.find((c) => c.id !== m.clone)).toMatchObject({ binding: 'unassigned' });
    }
  });

  it('one clone assigned to two machines at once: one wins, the other gets 409 busy', async () => {
    const clone = await makeClone(api, master);
    const [m1, m2] = await Promise.all([makeMachine(api), makeMachine(api)]);
    const replies = await Promise.all(
      [m1, m2].map((m) => api.post(`/v1/clones/${clone.id}/assign`, { machine: m.id, ...vars })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error.code).toBe('busy');
    await api.wait(replies.find((r) => r.status === 202)!.body.operation);
    const machines = await Promise.all([m1, m2].map(async (m) => (await api.get(`/v1/machines/${m.id}`)).body));
    expect(machines.filter((m) => m.clone === clone.id)).toHaveLength(1);
    expect(machines.filter((m) => m.clone === undefined)).toHaveLength(1);
  });

  it('queues parallel clones per repository instead of failing them: 12 at once all succeed, each with its own progress', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `par-${Date.now()}-${i}`);
    const replies = await Promise.all(names.map((name) => api.post('/v1/clones', { master, name })));
    expect(replies.map((r) => r.status)).toEqual(names.map(() => 202));
    const ops = await Promise.all(replies.map((r) => api.wait(r.body.operation, 120_000)));
    for (const op of ops) expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    // More clones than slots: some waited their turn, and said so in their steps.
    const queued = ops.filter((op) => op.steps.some((s: { name: string }) => s.name === 'queued'));
    expect(queued.length).toBeGreaterThan(0);
  }, 180_000);

  it('two clones created with one name at once: one is made, the other is 409 name_taken', async () => {
    const name = `twin-${Date.now()}`;
    const replies = await Promise.all([1, 2].map(() => api.post('/v1/clones', { master, name })));
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error.code).toBe('name_taken');
    await api.wait(replies.find((r) => r.status === 202)!.body.operation);
  });
});
