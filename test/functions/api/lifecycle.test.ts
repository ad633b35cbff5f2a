/** A clone walks its whole lifecycle through the API on real files, with offline customization. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, unique } from '../../support/fixtures';
import { debugfsCat } from '../../support/images';

const api = Api.admin();
const sha = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

describe('the clone lifecycle through the API', () => {
  let ctx: Awaited<ReturnType<typeof makeMaster>>;
  beforeAll(async () => {
    ctx = await makeMaster(api, { requirements: { arch: 'x86_64', minCpus: 2, minMemoryMiB: 1024 } });
  });

  it('imports a master with its facts, detected filesystem and catalog document', async () => {
    const m = ctx.master;
    expect(m).toMatchObject({ status: 'ready', version: 1, format: 'raw', sizeBytes: 16 * 1024 * 1024 });
    expect(m.sha256).toBe(await sha(join(ctx.dir, 'masters/base.img')));
    expect(m.allocatedBytes).toBe((await stat(join(ctx.dir, 'masters/base.img'))).blocks * 512);
    expect(m.filesystem).toMatchObject({ type: 'ext4', offsetBytes: 0 });
    expect(m.customization).toHaveLength(2);
    expect(m.clones).toEqual([]);
  });

  it('edits profile, requirements and items with PATCH', async () => {
    const r = await api.patch(`/v1/masters/${ctx.master.id}`, {
      profile: { service: 'web', software: ['nginx 1.24'] },
    });
    expect(r.status).toBe(200);
    expect(r.body.profile).toEqual({ service: 'web', software: ['nginx 1.24'] });
    expect(r.body.requirements.minCpus).toBe(2);
  });

  it('clones sparse-aware with the master\u2019s sha256, leaving no temp file', async () => {
    const c = await makeClone(api, ctx.master.name);
    const file = join(ctx.dir, c.path);
    expect(c).toMatchObject({ status: 'ready', metastate: 'clean', binding: 'unassigned', format: 'raw' });
    // `auto`: the fastest method that makes a standalone image on this filesystem.
    expect(['reflink', 'sparse']).toContain(c.method);
    expect(await sha(file)).toBe(ctx.master.sha256);
    expect((await stat(file)).blocks * 512).toBeLessThanOrEqual(ctx.master.allocatedBytes * 1.05);
    const master = (await api.get(`/v1/masters/${ctx.master.id}`)).body;
    expect(master.clones.map((x: { id: string }) => x.id)).toContain(c.id);
  });

  it('walks assign → attach → activate → deactivate → detach → unassign → reconfigure → capture, and destroy', async () => {
    const clone = await makeClone(api, ctx.master.name);
    const small = await makeMachine(api, { cpus: 1 });
    const blade = await makeMachine(api);
    const file = join(ctx.dir, clone.path);

    const refused = await api.post(`/v1/clones/${clone.id}/assign`, {
      machine: small.id,
      customization: { variables: { hostname: 'x' } },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('requirements_not_met');
    expect(refused.body.error.message).toContain('at least 2 CPUs');

    const assigned = await api.run(`/v1/clones/${clone.id}/assign`, {
      machine: blade.name,
      customization: {
        variables: { hostname: 'web-7' },
        items: [{ type: 'file', path: '/etc/motd', content: 'welcome to ${hostname}\n' }],
      },
    });
    expect(assigned.status, JSON.stringify(assigned)).toBe('succeeded');
    expect(await debugfsCat(file, '/etc/hostname')).toBe('web-7\n');
    expect(await debugfsCat(file, '/etc/hosts')).toBe('127.0.0.1 localhost\n127.0.1.1 web-7\n');
    expect(await debugfsCat(file, '/etc/motd')).toBe('welcome to web-7\n');
    let c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c).toMatchObject({ binding: 'assigned', machine: blade.id, customization: { applied: 3, total: 3 } });
    expect((await api.get(`/v1/machines/${blade.id}`)).body.clone).toBe(clone.id);

    for (const [event, binding] of [
      ['attach', 'attached'],
      ['activate', 'active'],
    ] as const) {
      const op = await api.run(`/v1/clones/${clone.id}/${event}`);
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect((await api.get(`/v1/clones/${clone.id}`)).body.binding).toBe(binding);
    }
    c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c).toMatchObject({ metastate: 'operational', bootCount: 1 });

    const notNow = await api.post(`/v1/clones/${clone.id}/rollback`, { to: 0 });
    expect(notNow.status).toBe(409);
    expect(notNow.body.error.code).toBe('invalid_transition');

    for (const event of ['deactivate', 'detach', 'unassign', 'reconfigure']) {
      const op = await api.run(`/v1/clones/${clone.id}/${event}`);
      expect(op.status, `${event}: ${JSON.stringify(op)}`).toBe('succeeded');
    }
    c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c).toMatchObject({ metastate: 'maintenance', binding: 'unassigned' });
    expect(c.machine).toBeUndefined();
    expect((await api.get(`/v1/machines/${blade.id}`)).body.clone).toBeUndefined();

    const captured = await api.run(`/v1/clones/${clone.id}/capture`);
    expect(captured.status, JSON.stringify(captured)).toBe('succeeded');
    const v2 = (await api.get(`/v1/masters/${ctx.master.name}`)).body;
    expect(v2).toMatchObject({ version: 2, parent: ctx.master.id, sourceClone: clone.id, status: 'ready' });
    expect(await debugfsCat(join(ctx.dir, v2.path), '/etc/hostname')).toBe('web-7\n');
    expect((await api.get(`/v1/masters/${ctx.master.name}@1`)).body.id).toBe(ctx.master.id);
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({ status: 'captured', capturedAs: v2.id });

    const other = await makeClone(api, ctx.master.name);
    const destroyed = await api.run(`/v1/clones/${other.id}/destroy`);
    expect(destroyed.status).toBe('succeeded');
    expect((await api.get(`/v1/clones/${other.id}`)).body.status).toBe('destroyed');
    await expect(stat(join(ctx.dir, other.path))).rejects.toThrow();
  });

  it('captures a linked clone (qcow2 overlay) as a standalone raw master version', async () => {
    const plain = await makeMaster(api, { customization: [] });
    const name = unique('linked');
    const made = await api.run('/v1/clones', { master: plain.master.id, name, method: 'overlay' });
    expect(made.status, JSON.stringify(made.error)).toBe('succeeded');
    const clone = (await api.get(`/v1/clones/${name}`)).body;
    expect(clone).toMatchObject({ method: 'overlay', format: 'qcow2', backing: plain.master.path });
    expect(clone.path).toMatch(/\.qcow2$/);
    const blade = await makeMachine(api);
    for (const event of [
      'assign',
      'attach',
      'activate',
      'deactivate',
      'detach',
      'unassign',
      'reconfigure',
      'capture',
    ]) {
      const op = await api.run(`/v1/clones/${clone.id}/${event}`, event === 'assign' ? { machine: blade.id } : {});
      expect(op.status, `${event}: ${JSON.stringify(op.error)}`).toBe('succeeded');
    }
    const v2 = (await api.get(`/v1/masters/${plain.master.name}`)).body;
    expect(v2).toMatchObject({
      version: 2,
      format: 'raw',
      sha256: plain.master.sha256,
      parent: plain.master.id,
      sourceClone: clone.id,
    });
    await expect(stat(join(plain.dir, clone.path))).rejects.toThrow();

    // Deleting the newest version moves the plain name back to the version left; the last one takes it along.
    expect((await api.del(`/v1/masters/${plain.master.name}@2`)).status).toBe(200);
    expect((await api.get(`/v1/masters/${plain.master.name}`)).body).toMatchObject({ id: plain.master.id, version: 1 });
    expect((await api.get(`/v1/masters/${plain.master.name}@2`)).status).toBe(404);
    const last = await api.del(`/v1/masters/${plain.master.name}@1`);
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect((await api.get(`/v1/masters/${plain.master.name}`)).status).toBe(404);
    expect((await api.get(`/v1/masters/${plain.master.id}`)).status).toBe(404);
  });

  it('rolls customization back byte for byte and applies it again in stages', async () => {
    const clone = await makeClone(api, ctx.master.name);
    const file = join(ctx.dir, clone.path);
    const before = { hostname: await debugfsCat(file, '/etc/hostname'), hosts: await debugfsCat(file, '/etc/hosts') };

    const first = await api.run(`/v1/clones/${clone.id}/customize`, { variables: { hostname: 'db-1' }, to: 1 });
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    expect(await debugfsCat(file, '/etc/hostname')).toBe('db-1\n');
    expect(await debugfsCat(file, '/etc/hosts')).toBe(before.hosts);

    expect((await api.run(`/v1/clones/${clone.id}/customize`, {})).status).toBe('succeeded');
    expect(await debugfsCat(file, '/etc/hosts')).toContain('127.0.1.1 db-1');
    expect((await api.get(`/v1/clones/${clone.id}`)).body.customization.applied).toBe(2);

    const back = await api.run(`/v1/clones/${clone.id}/rollback`, { to: 0 });
    expect(back.status, JSON.stringify(back)).toBe('succeeded');
    expect(await debugfsCat(file, '/etc/hostname')).toBe(before.hostname);
    expect(await debugfsCat(file, '/etc/hosts')).toBe(before.hosts);
    const c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c.customization).toMatchObject({ applied: 0, changes: [] });

    expect((await api.run(`/v1/clones/${clone.id}/customize`, {})).status).toBe('succeeded');
    expect(await debugfsCat(file, '/etc/hostname')).toBe('db-1\n');
  });

  it('answers 409 for every event the table does not allow, and changes nothing', async () => {
    const clone = await makeClone(api, ctx.master.name);
    const before = (await api.get(`/v1/clones/${clone.id}`)).body;
    for (const event of ['unassign', 'attach', 'detach', 'activate', 'deactivate', 'reconfigure', 'capture']) {
      const r = await api.post(`/v1/clones/${clone.id}/${event}`, {});
      expect(r.status, event).toBe(409);
      expect(r.body.error.code).toBe('invalid_transition');
      expect(r.body.error.allowed).toEqual(['assign', 'customize', 'rollback', 'relocate', 'destroy']);
    }
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toEqual(before);
  });

  it('keeps one transition at a time per clone: a second event while one runs is 409 busy', async () => {
    const clone = await makeClone(api, ctx.master.name);
    const slow = await makeMachine(api, { settings: { bootSeconds: 2 } });
    await api.run(`/v1/clones/${clone.id}/assign`, {
      machine: slow.id,
      customization: { variables: { hostname: 'h' } },
    });
    await api.run(`/v1/clones/${clone.id}/attach`);
    const first = await api.post(`/v1/clones/${clone.id}/activate`);
    expect(first.status).toBe(202);
    const second = await api.post(`/v1/clones/${clone.id}/deactivate`);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('busy');
    expect((await api.wait(first.body.operation)).status).toBe('succeeded');
  });

  it('records operations with steps and progress, and an audit trail', async () => {
    const name = unique('clone');
    const r = await api.post('/v1/clones', { master: ctx.master.id, name });
    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ kind: 'clone', status: 'succeeded', progress: 1, resource: { kind: 'clone', name } });
    expect(op.steps.length).toBeGreaterThan(0);
    expect(op.steps.every((s: { status: string }) => s.status === 'succeeded')).toBe(true);
    const audit = (await api.get('/v1/audit?limit=200')).body.items.filter(
      (e: { operation?: string }) => e.operation === op.id,
    );
    expect(audit.map((e: { outcome: string }) => e.outcome).sort()).toEqual(['accepted', 'succeeded']);
    expect(audit[0].actor).toMatch(/^admin:tk-/);
  });
});
