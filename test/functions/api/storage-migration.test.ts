/**
 * A clone's image moving to another repository of its site, through the whole stack with real files
 * and qemu-img: by the relocate event, and by a migration that names `storage: {repository}`, alone
 * or with a new machine. The copy is verified, the record switched, the old image removed; state,
 * customization and lineage stay; a linked clone keeps reading through to its master or is refused.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../../support/api';
import {
  activeOn as activeOnMachine,
  makeClone,
  makeMachine,
  makeMaster,
  makeRepository,
  migrate as migrateClone,
  unique,
} from '../../support/fixtures';
import { debugfsCat } from '../../support/images';

const run = promisify(execFile);
const api = Api.admin();

const sha256Of = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The operations a scenario's operation started, oldest first. */
async function childKinds(parent: string): Promise<string[]> {
  const ops = (await api.get('/v1/operations?limit=100')).body.items as { parent?: string; kind: string }[];
  return ops
    .filter((o) => o.parent === parent)
    .map((o) => o.kind)
    .reverse();
}

describe('moving a clone to another repository', () => {
  let dir: string;
  let master: { name: string; id: string };
  let home: { id: string; name: string };
  let other: { dir: string; repo: { id: string; name: string } };

  beforeAll(async () => {
    const made = await makeMaster(api);
    ({ dir, master } = made);
    home = made.repo;
    other = await makeRepository(api);
  }, 120_000);

  const activeOn = (machine: { id: string }, hostname: string) => activeOnMachine(api, master.name, machine, hostname);
  const migrate = (body: Record<string, unknown>) => migrateClone(api, body);

  describe('the relocate event', () => {
    it('copies a customized clone there verified, switches its record, removes the old image, and its undo records still roll it back', async () => {
      const clone = await makeClone(api, master.name);
      const customized = await api.run(`/v1/clones/${clone.id}/customize`, { variables: { hostname: 'moved-1' } });
      expect(customized.status, JSON.stringify(customized)).toBe('succeeded');
      const before = (await api.get(`/v1/clones/${clone.id}`)).body;
      const sha = await sha256Of(join(dir, before.path));

      const op = await api.run(`/v1/clones/${clone.id}/relocate`, { repository: other.repo.name });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(op.progress).toBe(1);
      expect(op.steps.map((s: { name: string }) => s.name)).toEqual(['relocate', 'copy', 'verify', 'release']);
      expect(op.result).toMatchObject({
        from: { repository: home.id, path: before.path },
        to: { repository: other.repo.id, path: before.path },
        sha256: sha,
        released: true,
      });

      const after = (await api.get(`/v1/clones/${clone.id}`)).body;
      expect(after).toMatchObject({
        repository: other.repo.id,
        path: before.path,
        sha256: sha,
        master: before.master,
        method: before.method,
        metastate: 'clean',
        binding: 'unassigned',
      });
      expect(after.lock).toBeUndefined();
      expect(after.customization).toEqual(before.customization);
      expect(await sha256Of(join(other.dir, after.path))).toBe(sha);
      expect(await exists(join(dir, before.path))).toBe(false);
      expect(await exists(join(dir, `${before.path}.encompass`))).toBe(false);
      expect(await debugfsCat(join(other.dir, after.path), '/etc/hostname')).toBe('moved-1\n');

      const back = await api.run(`/v1/clones/${clone.id}/rollback`, { to: 0 });
      expect(back.status, JSON.stringify(back)).toBe('succeeded');
      expect(await debugfsCat(join(other.dir, after.path), '/etc/hostname')).toBe('template\n');
    }, 120_000);

    it('is refused while a machine reaches the image', async () => {
      const clone = await activeOn(await makeMachine(api), 'busy-1');
      const r = await api.post(`/v1/clones/${clone.id}/relocate`, { repository: other.repo.name });
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'invalid_transition' });
    }, 120_000);
  });

  describe('a migration with storage', () => {
    it('moves an idle clone with {clone, storage: {repository}} alone', async () => {
      const clone = await makeClone(api, master.name);
      const sha = await sha256Of(join(dir, clone.path));
      const { op, m } = await migrate({ clone: clone.name, storage: { repository: other.repo.id } });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(m.members[0]).toMatchObject({ outcome: 'succeeded' });
      expect(m.members[0].machine).toBeUndefined();
      expect(await childKinds(op.id)).toEqual(['relocate']);
      expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({
        repository: other.repo.id,
        path: clone.path,
        binding: 'unassigned',
        customization: clone.customization,
      });
      expect(await sha256Of(join(other.dir, clone.path))).toBe(sha);
      expect(await exists(join(dir, clone.path))).toBe(false);
      // A second read, on its own, finds the same.
      expect((await api.get(`/v1/clones/${clone.name}`)).body.repository).toBe(other.repo.id);
    }, 120_000);

    it('moves an active clone to another machine and its image to another repository in one call', async () => {
      const [from, to] = [await makeMachine(api), await makeMachine(api)];
      const clone = await activeOn(from, 'both-1');
      const { op } = await migrate({ clone: clone.id, toMachine: to.name, storage: { repository: other.repo.name } });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(await childKinds(op.id)).toEqual([
        'deactivate',
        'detach',
        'unassign',
        'relocate',
        'assign',
        'attach',
        'activate',
      ]);
      const after = (await api.get(`/v1/clones/${clone.id}`)).body;
      expect(after).toMatchObject({ machine: to.id, binding: 'active', repository: other.repo.id });
      expect(after.customization.changes).toEqual(clone.customization.changes);
      expect(await debugfsCat(join(other.dir, after.path), '/etc/hostname')).toBe('both-1\n');
      expect(await exists(join(dir, clone.path))).toBe(false);
      expect((await api.get(`/v1/machines/${from.id}`)).body.clone).toBeUndefined();
      expect((await api.get(`/v1/machines/${to.id}`)).body).toMatchObject({ clone: clone.id, state: 'ready' });
    }, 180_000);

    it('puts the clone back on its source machine and its image back in its old repository when the new machine fails to boot', async () => {
      const from = await makeMachine(api);
      const to = await makeMachine(api, { settings: { failBoot: true } });
      const clone = await activeOn(from, 'back-1');
      const { op, m } = await migrate({ clone: clone.id, toMachine: to.id, storage: { repository: other.repo.id } });
      expect(op.status).toBe('failed');
      expect(m.members[0]).toMatchObject({ outcome: 'failed', error: { step: 'activate', code: 'boot_failed' } });
      const kinds = await childKinds(op.id);
      expect(kinds.filter((k) => k === 'relocate')).toHaveLength(2);
      expect(kinds.slice(-4)).toEqual(['relocate', 'assign', 'attach', 'activate']);
      expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({
        machine: from.id,
        binding: 'active',
        repository: home.id,
        path: clone.path,
      });
      expect(await debugfsCat(join(dir, clone.path), '/etc/hostname')).toBe('back-1\n');
      expect(await exists(join(other.dir, clone.path))).toBe(false);
      expect((await api.get(`/v1/machines/${to.id}`)).body.clone).toBeUndefined();
    }, 240_000);

    it('moves the image of an active clone that stays on its machine: down to assigned, relocated, back up', async () => {
      const machine = await makeMachine(api);
      const clone = await activeOn(machine, 'stay-1');
      const { op } = await migrate({ clone: clone.id, storage: { repository: other.repo.name } });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(await childKinds(op.id)).toEqual(['deactivate', 'detach', 'relocate', 'attach', 'activate']);
      expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({
        machine: machine.id,
        binding: 'active',
        repository: other.repo.id,
      });
    }, 180_000);

    it('moves a linked clone to a file repository, where its copy still reads through to the master', async () => {
      const name = unique('linked');
      const made = await api.run('/v1/clones', { master: master.name, name, method: 'overlay' });
      expect(made.status, JSON.stringify(made)).toBe('succeeded');
      const clone = (await api.get(`/v1/clones/${name}`)).body;
      expect(clone).toMatchObject({ format: 'qcow2', backing: 'masters/base.img' });
      const { op } = await migrate({ clone: clone.id, storage: { repository: other.repo.name } });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      const after = (await api.get(`/v1/clones/${clone.id}`)).body;
      expect(after).toMatchObject({
        repository: other.repo.id,
        format: 'qcow2',
        method: 'overlay',
        backing: 'masters/base.img',
      });
      const moved = join(other.dir, after.path);
      const { stdout } = await run('qemu-img', ['info', '--backing-chain', '--output=json', moved]);
      const chain = JSON.parse(stdout) as { filename: string; 'full-backing-filename'?: string }[];
      expect(chain.map((i) => i.filename)).toEqual([moved, join(dir, 'masters/base.img')]);
      expect(await exists(join(dir, clone.path))).toBe(false);
    }, 120_000);

    it('refuses a linked clone for an iSCSI repository, where it could not read through to its master, changing nothing', async () => {
      const name = unique('linked');
      await api.run('/v1/clones', { master: master.name, name, method: 'overlay' });
      const before = (await api.get(`/v1/clones/${name}`)).body;
      const lunDir = join(inject('stack').home, 'repos', unique('luns'));
      await mkdir(lunDir, { recursive: true });
      const luns = await api.createRepository({
        name: unique('luns'),
        site: 'local',
        kind: 'iscsi',
        path: lunDir,
        settings: { portal: '127.0.0.1:3260', iqnPrefix: 'iqn.2026-11.test.encompass' },
      });
      expect(luns.status, JSON.stringify(luns.body)).toBe(201);
      const r = await api.post('/v1/migrations', { clone: name, storage: { repository: luns.body.name } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('backing_unreachable');
      expect(r.body.error.message).toMatch(/raw LUN.*never flattened.*file repository/);
      const event = await api.post(`/v1/clones/${name}/relocate`, { repository: luns.body.id });
      expect(event.status).toBe(400);
      expect((await api.get(`/v1/clones/${name}`)).body).toEqual(before);
      expect(await readdir(lunDir)).toEqual([]);
    }, 120_000);

    it('answers 4xx for bodies that cannot work, and changes nothing', async () => {
      const clone = await makeClone(api, master.name);
      const site = unique('far');
      expect((await api.post('/v1/sites', { name: site })).status).toBe(201);
      const farDir = await mkdtemp(join(inject('stack').home, 'repos', 'far-'));
      const far = await api.createRepository({ name: unique('far'), site, kind: 'file', path: farDir });
      expect(far.status, JSON.stringify(far.body)).toBe(201);
      const cases: [unknown, number, RegExp | string][] = [
        [{ clone: clone.id }, 400, /"toMachine".*"storage".*or both/],
        [{ clone: clone.id, storage: 'keep' }, 400, /name at least one/],
        [{ clone: clone.id, storage: { repository: 'no-such-repo' } }, 404, /no repository .*no-such-repo/],
        [{ clone: clone.id, storage: { repository: home.name } }, 400, /already/],
        [{ clone: clone.id, storage: { repository: far.body.name } }, 400, /on site .*within its site/],
        [{ clone: clone.id, storage: {} }, 400, 'invalid_input'],
        [{ clone: clone.id, storage: { repository: 7 } }, 400, 'invalid_input'],
        [{ clone: clone.id, storage: 'move' }, 400, 'invalid_input'],
        [{ clone: clone.id, storage: { repository: other.repo.id, speed: 'fast' } }, 400, 'invalid_input'],
        [{ clone: clone.id, storage: { repository: other.repo.id }, variables: { hostname: 'x' } }, 400, /toMachine/],
        [{ clone: 'no-such-clone', storage: { repository: other.repo.id } }, 404, /no clone/],
        [[clone.id], 400, 'invalid_input'],
        ['relocate', 400, 'invalid_input'],
      ];
      for (const [body, status, says] of cases) {
        const r = await api.post('/v1/migrations', body);
        expect(r.status, JSON.stringify({ body, answer: r.body })).toBe(status);
        if (typeof says === 'string') expect(r.body.error.code).toBe(says);
        else expect(r.body.error.message).toMatch(says);
      }
      const garbage = await api.post(`/v1/clones/${clone.id}/relocate`, { repository: other.repo.id, to: 'x' });
      expect(garbage.status).toBe(400);
      expect((await api.get(`/v1/clones/${clone.id}`)).body).toEqual(clone);
      expect(await exists(join(dir, clone.path))).toBe(true);
      expect(await exists(join(other.dir, clone.path))).toBe(false);
      await api.del(`/v1/repositories/${far.body.id}`);
      await api.del(`/v1/sites/${site}`);
    }, 120_000);
  });

  describe('into a repository without room', () => {
    let small: string;
    beforeAll(async () => {
      small = await mkdtemp(join(inject('stack').home, 'repos', 'small-'));
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
    });
    afterAll(async () => {
      if (small) await run('umount', [small]).catch(() => undefined);
    });

    it("fails with the agent's disk_full, the clone where it was and nothing left there", async () => {
      const repo = await api.createRepository({
        name: unique('small'),
        site: 'local',
        kind: 'file',
        path: small,
      });
      expect(repo.status, JSON.stringify(repo.body)).toBe(201);
      const clone = await makeClone(api, master.name);
      const sha = await sha256Of(join(dir, clone.path));
      const { op, m } = await migrate({ clone: clone.id, storage: { repository: repo.body.name } });
      expect(op.status).toBe('failed');
      expect(m.members[0]).toMatchObject({ outcome: 'failed', error: { step: 'relocate', code: 'disk_full' } });
      expect(m.members[0].error.message).toMatch(/bytes free but .* are needed/);
      const after = (await api.get(`/v1/clones/${clone.id}`)).body;
      expect(after).toMatchObject({ repository: home.id, path: clone.path, binding: 'unassigned' });
      expect(after.lock).toBeUndefined();
      expect(after.lastError).toMatchObject({ code: 'disk_full' });
      expect(await sha256Of(join(dir, clone.path))).toBe(sha);
      expect(await readdir(small)).toEqual([]);
    }, 120_000);
  });
});
