/** Races: concurrent assigns end with exactly one winner and never a double binding. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, makeRepository, unique } from '../../support/fixtures';

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

  it('queues parallel clones per repository instead of failing them: 16 at once all succeed, each with its own progress', async () => {
    // A preallocated 512 MiB master: each sparse clone reads all of it (zeros, no disk I/O), so the 16
    // overlap and more than the repository's slots are under way at once.
    const { dir, repo } = await makeRepository(api);
    execFileSync('fallocate', ['-l', String(512 * 1024 ** 2), join(dir, 'big.img')]);
    const big = await api.run('/v1/masters', {
      name: unique('big'),
      repository: repo.name,
      path: 'big.img',
      format: 'raw',
    });
    expect(big.status, JSON.stringify(big)).toBe('succeeded');
    const names = Array.from({ length: 16 }, (_, i) => `par-${Date.now()}-${i}`);
    const replies = await Promise.all(
      names.map((name) => api.post('/v1/clones', { master: big.resource.id, name, method: 'sparse' })),
    );
    expect(replies.map((r) => r.status)).toEqual(names.map(() => 202));
    const ops = await Promise.all(replies.map((r) => api.wait(r.body.operation, 120_000)));
    // 0 lock failures: every one succeeded, none with `busy` or a lock error.
    for (const op of ops) expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    console.log(
      `reliability: 16 parallel clones of one master, ${ops.filter((o) => o.status !== 'succeeded').length} failed`,
    );
    // More clones than slots: some waited their turn, and said so in their steps.
    const queued = ops.filter((op) => op.steps.some((s: { name: string }) => s.name === 'queued'));
    expect(queued.length).toBeGreaterThan(0);
  }, 180_000);

  it('1,000 racing assigns of 40 clones to 25 machines: never a double binding, never a 5xx', async () => {
    const clones = await Promise.all(Array.from({ length: 40 }, () => makeClone(api, master)));
    const machines = await Promise.all(Array.from({ length: 25 }, () => makeMachine(api)));
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const requests = Array.from({ length: 1000 }, () => ({ clone: pick(clones).id, machine: pick(machines).id }));
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    // Waves of 100 requests in flight at once, while the accepted ones run.
    for (let i = 0; i < requests.length; i += 100) {
      const replies = await Promise.all(
        requests
          .slice(i, i + 100)
          .map((r) => api.post(`/v1/clones/${r.clone}/assign`, { machine: r.machine, ...vars })),
      );
      for (const r of replies) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 202) accepted.push(r.body.operation);
        else
          expect(['machine_taken', 'busy', 'invalid_transition'], JSON.stringify(r.body)).toContain(r.body.error.code);
      }
    }
    expect([...statuses.keys()].sort()).toEqual(statuses.has(409) ? [202, 409] : [202]);
    const ops = await Promise.all(accepted.map((o) => api.wait(o, 120_000)));
    for (const op of ops) expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    const cs = await Promise.all(clones.map(async (c) => (await api.get(`/v1/clones/${c.id}`)).body));
    const ms = await Promise.all(machines.map(async (m) => (await api.get(`/v1/machines/${m.id}`)).body));
    const bound = cs.filter((c) => c.binding === 'assigned');
    // Both sides agree, and no machine holds two clones nor a clone two machines.
    expect(new Set(bound.map((c) => c.machine)).size).toBe(bound.length);
    expect(bound).toHaveLength(ms.filter((m) => m.clone).length);
    for (const c of bound) expect(ms.find((m) => m.id === c.machine)?.clone).toBe(c.id);
    expect(bound).toHaveLength(accepted.length);
    console.log(
      `reliability: 1000 racing assigns: ${statuses.get(202) ?? 0} accepted, ${statuses.get(409) ?? 0} refused 409, ${bound.length} bindings, 0 double`,
    );
  }, 600_000);

  it('two clones created with one name at once: one is made, the other is 409 name_taken', async () => {
    const name = `twin-${Date.now()}`;
    const replies = await Promise.all([1, 2].map(() => api.post('/v1/clones', { master, name })));
    expect(replies.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error.code).toBe('name_taken');
    await api.wait(replies.find((r) => r.status === 202)!.body.operation);
  });
});
