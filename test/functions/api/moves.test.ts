/**
 * Migrations and reassignments on sim machines through the whole stack: one call, one operation,
 * each step a real lifecycle operation; a failed migration puts the clone back on its source machine.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import {
  activeOn as activeOnMachine,
  makeMachine,
  makeMaster,
  migrate as migrateClone,
  unique,
} from '../../support/fixtures';
import { debugfsCat } from '../../support/images';

const api = Api.admin();

describe('migrations and reassignments', () => {
  let dir: string;
  let master: { name: string; id: string };

  beforeAll(async () => {
    const made = await makeMaster(api);
    dir = made.dir;
    master = made.master;
  }, 120_000);

  const activeOn = (machine: { id: string }, hostname: string) => activeOnMachine(api, master.name, machine, hostname);
  const migrate = (body: Record<string, unknown>) => migrateClone(api, body);

  it('moves an active operational clone to another machine without customizing it again, and frees the source', async () => {
    const [from, to] = [await makeMachine(api), await makeMachine(api)];
    const clone = await activeOn(from, 'mig-1');
    const { op, m } = await migrate({ clone: clone.id, toMachine: to.name });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(m.members[0]).toMatchObject({ outcome: 'succeeded' });
    const after = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(after).toMatchObject({ machine: to.id, binding: 'active', metastate: 'operational' });
    expect(after.customization.changes).toEqual(clone.customization.changes);
    expect(await debugfsCat(join(dir, clone.path), '/etc/hostname')).toBe('mig-1\n');
    expect((await api.get(`/v1/machines/${from.id}`)).body.clone).toBeUndefined();
    expect((await api.get(`/v1/machines/${to.id}`)).body).toMatchObject({ clone: clone.id, state: 'ready' });
    const kinds = (await api.get('/v1/operations?limit=50')).body.items
      .filter((o: any) => o.parent === op.id)
      .map((o: any) => o.kind)
      .reverse();
    expect(kinds).toEqual(['deactivate', 'detach', 'unassign', 'assign', 'attach', 'activate']);
    // The clone counts its own boots: one on each machine, whatever each machine's own count.
    expect(after.bootCount).toBe(clone.bootCount + 1);
    // Each machine's history has the binding, the source's closed when it let go.
    const [source, target] = [from, to].map(async (x) => (await api.get(`/v1/machines/${x.id}`)).body.history);
    expect(await source).toEqual([
      expect.objectContaining({ clone: clone.id, cloneName: clone.name, to: expect.any(String) }),
    ]);
    expect((await target).map((h: any) => [h.clone, h.to])).toEqual([[clone.id, undefined]]);
  }, 180_000);

  it('puts the clone back on its source machine when the new one fails to boot, and says so', async () => {
    const from = await makeMachine(api);
    const to = await makeMachine(api, { settings: { failBoot: true } });
    const clone = await activeOn(from, 'mig-2');
    const { op, m } = await migrate({ clone: clone.id, toMachine: to.id });
    expect(op.status).toBe('failed');
    expect(op.error.message).toContain('1 of 1 members failed');
    expect(m.members[0]).toMatchObject({ outcome: 'failed', error: { step: 'activate', code: 'boot_failed' } });
    const after = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(after).toMatchObject({ machine: from.id, binding: 'active' });
    expect((await api.get(`/v1/machines/${to.id}`)).body).toMatchObject({ state: 'ready' });
    expect((await api.get(`/v1/machines/${to.id}`)).body.clone).toBeUndefined();
  }, 180_000);

  it('refuses a migration that cannot work before touching anything', async () => {
    const [from, busy] = [await makeMachine(api), await makeMachine(api)];
    const clone = await activeOn(from, 'mig-3');
    const other = await activeOn(busy, 'mig-3b');
    const same = await api.post('/v1/migrations', { clone: clone.id, toMachine: from.id });
    expect(same.status).toBe(400);
    const taken = await api.post('/v1/migrations', { clone: clone.id, toMachine: busy.id });
    expect(taken.status).toBe(409);
    const storage = await api.post('/v1/migrations', {
      clone: clone.id,
      toMachine: busy.id,
      storage: { repository: 'x' },
    });
    expect(storage.status).toBe(404);
    expect(storage.body.error.message).toContain('no repository with id or name "x"');
    const unknown = await api.post('/v1/migrations', { clone: clone.id, toMachine: busy.id, speed: 'fast' });
    expect(unknown.status).toBe(400);
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({ machine: from.id, binding: 'active' });
    expect((await api.get(`/v1/clones/${other.id}`)).body.lock).toBeUndefined();
  }, 180_000);

  it('refuses variables the clone or the new master does not use, naming them, before touching anything', async () => {
    const [from, to] = [await makeMachine(api), await makeMachine(api)];
    const clone = await activeOn(from, 'var-1');
    const migration = await api.post('/v1/migrations', {
      clone: clone.id,
      toMachine: to.id,
      variables: { hostnam: 'var-2' },
    });
    expect(migration.status, JSON.stringify(migration.body)).toBe(400);
    expect(migration.body.error).toMatchObject({
      code: 'unknown_variable',
      unknown: ['hostnam'],
      expected: ['hostname'],
    });
    expect(migration.body.error.problems[0]).toMatch(/^body\.variables\.hostnam: the template of master /);
    const reassignment = await api.post('/v1/reassignments', {
      machine: from.id,
      to: { master: master.name, variables: { hostname: 'var-3', ntp: 'pool.ntp.org' } },
    });
    expect(reassignment.status, JSON.stringify(reassignment.body)).toBe(400);
    expect(reassignment.body.error).toMatchObject({ code: 'unknown_variable', unknown: ['ntp'] });
    expect(reassignment.body.error.message).toContain(
      `body.to.variables.ntp: the template of master ${master.name}@1 does not use it; it uses hostname`,
    );
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({
      machine: from.id,
      binding: 'active',
      rev: clone.rev,
    });
    expect((await api.get(`/v1/machines/${to.id}`)).body.clone).toBeUndefined();
    expect((await api.get(`/v1/operations?resource=${clone.id}`)).body.items).toHaveLength(4);
  }, 120_000);

  it('reassigns a machine to a fresh clone of a master, keeping the old one as its standby, and back, destroying the other', async () => {
    const machine = await makeMachine(api);
    const old = await activeOn(machine, 'old-1');
    const name = unique('new');
    const r = await api.post('/v1/reassignments', {
      machine: machine.name,
      to: { master: master.name, name, variables: { hostname: 'new-1' } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 120_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const fresh = (await api.get(`/v1/clones/${name}`)).body;
    expect(fresh).toMatchObject({ machine: machine.id, binding: 'active' });
    expect(await debugfsCat(join(dir, fresh.path), '/etc/hostname')).toBe('new-1\n');
    expect((await api.get(`/v1/clones/${old.id}`)).body).toMatchObject({ binding: 'unassigned', status: 'ready' });
    expect((await api.get(`/v1/machines/${machine.id}`)).body).toMatchObject({ clone: fresh.id, standby: old.id });
    expect((await api.get(`/v1/reassignments/${r.body.id}`)).body.members[0].outcome).toBe('succeeded');

    const back = await api.post('/v1/reassignments', { machine: machine.id, to: { clone: old.id }, old: 'destroy' });
    expect(back.status, JSON.stringify(back.body)).toBe(202);
    expect((await api.wait(back.body.operation, 120_000)).status).toBe('succeeded');
    expect((await api.get(`/v1/clones/${old.id}`)).body).toMatchObject({ machine: machine.id, binding: 'active' });
    expect((await api.get(`/v1/clones/${fresh.id}`)).body.status ?? 'gone').not.toBe('ready');
    expect((await api.get(`/v1/machines/${machine.id}`)).body.standby).toBeUndefined();
    // The machine's history lists the bindings it had: old, the fresh one, old again.
    const history = (await api.get(`/v1/machines/${machine.id}`)).body.history;
    expect(history.map((h: any) => [h.clone, Boolean(h.to)])).toEqual([
      [old.id, true],
      [fresh.id, true],
      [old.id, false],
    ]);
    // What the server keeps (history, state) survives a PATCH, and may be sent back as it was read.
    const read = (await api.get(`/v1/machines/${machine.id}`)).body;
    const patched = await api.patch(`/v1/machines/${machine.id}`, { ...read, tags: ['moved'] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ tags: ['moved'], history, state: 'ready', clone: old.id });
    expect((await api.patch(`/v1/machines/${machine.id}`, { history: [] })).status).toBe(400);
  }, 180_000);
});
