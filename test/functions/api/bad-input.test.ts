/** Bad input gets a clear error and leaves nothing behind: no partial clone, no half-written record. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, makeRepository, unique } from '../../support/fixtures';
import { debugfsCat, makeExt4 } from '../../support/images';

const api = Api.admin();

/** Temp dirs of this suite, removed when it ends (a mount point after it is unmounted). */
const temps: string[] = [];
async function tempDir(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

async function importFails(repo: string, path: string, code: string) {
  const name = unique('bad');
  const r = await api.post('/v1/masters', { name, repository: repo, path });
  expect(r.status).toBe(202);
  const op = await api.wait(r.body.operation);
  expect(op.status).toBe('failed');
  expect(op.error.code, JSON.stringify(op.error)).toBe(code);
  expect(op.error.message.length).toBeGreaterThan(20);
  expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
  // The name is free again: nothing half-written holds it.
  return { name, op };
}

describe('bad input', () => {
  let repo: { dir: string; repo: { name: string } };
  beforeAll(async () => {
    repo = await makeRepository(api);
  });

  it.each([
    ['../outside.img', 'climbs out'],
    ['masters/../../etc/passwd', 'climbs out'],
    ['/etc/passwd', 'absolute'],
    ['', 'is empty'],
  ])('refuses master path %j with 400 before anything starts', async (path, why) => {
    const name = unique('bad');
    const r = await api.post('/v1/masters', { name, repository: repo.repo.name, path });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(path === '' ? 'path' : why);
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
  });

  it('refuses a symlink that escapes the repository, as a failed import with no master record', async () => {
    const outside = await tempDir('encompass-outside-');
    await makeExt4(join(outside, 'secret.img'), { 'etc/hostname': 'x\n' }, 8);
    await symlink(join(outside, 'secret.img'), join(repo.dir, 'link.img'));
    await importFails(repo.repo.name, 'link.img', 'path_escape');
  });

  it('reports a missing image and a corrupt image clearly', async () => {
    await importFails(repo.repo.name, 'masters/nothing-here.img', 'image_not_found');
    await writeFile(join(repo.dir, 'empty.img'), '');
    await importFails(repo.repo.name, 'empty.img', 'corrupt_image');
  });

  it('refuses random bytes as a master unless the request says the image is raw', async () => {
    await writeFile(join(repo.dir, 'noise.img'), randomBytes(2 * 1024 * 1024));
    const { op } = await importFails(repo.repo.name, 'noise.img', 'unrecognized_image');
    expect(op.error.message).toContain('"format": "raw"');
    const raw = await api.run('/v1/masters', {
      name: unique('raw'),
      repository: repo.repo.name,
      path: 'noise.img',
      format: 'raw',
    });
    expect(raw).toMatchObject({ status: 'succeeded', result: { format: 'raw', filesystem: null } });
  });

  it('answers 409 name_taken for a second master or clone of the same name', async () => {
    const { master } = await makeMaster(api);
    const again = await api.post('/v1/masters', { name: master.name, repository: repo.repo.name, path: 'x.img' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('name_taken');
    const clone = await makeClone(api, master.id);
    const twin = await api.post('/v1/clones', { master: master.id, name: clone.name });
    expect(twin.status).toBe(409);
    expect(twin.body.error.code).toBe('name_taken');
  });

  it('answers 404 for an unknown machine, master or clone, naming what was missing', async () => {
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.id);
    const r = await api.post(`/v1/clones/${clone.id}/assign`, {
      machine: 'no-such-machine',
      customization: { variables: { hostname: 'h' } },
    });
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain('no-such-machine');
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({ binding: 'unassigned' });
    expect((await api.post('/v1/clones', { master: 'no-such-master', name: unique('c') })).status).toBe(404);
    expect((await api.get('/v1/clones/no-such-clone')).status).toBe(404);
  });

  it('answers 400 for malformed JSON, unknown fields, bad items and unknown events; 413 for huge bodies', async () => {
    const raw = await fetch(`${api.url}/v1/machines`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(raw.status).toBe(400);
    expect((await raw.json()).error.message).toContain('not valid JSON');
    const extra = await api.post('/v1/machines', { name: unique('m'), site: 'local', kind: 'sim', colour: 'red' });
    expect(extra.status).toBe(400);
    const badMac = await api.post('/v1/machines', {
      name: unique('m'),
      site: 'local',
      kind: 'sim',
      identity: { macs: ['zz'] },
    });
    expect(badMac.status).toBe(400);
    expect(badMac.body.error.message).toContain('MAC');
    const badItem = await api.post('/v1/masters', {
      name: unique('m'),
      repository: repo.repo.name,
      path: 'x.img',
      customization: [{ type: 'replace', path: 'etc/hosts', pattern: '(', replacement: '' }],
    });
    expect(badItem.status).toBe(400);
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.id);
    const unknown = await api.post(`/v1/clones/${clone.id}/explode`, {});
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('assign');
    const huge = await api.post('/v1/machines', {
      name: 'x',
      site: 'local',
      kind: 'sim',
      settings: { blob: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect(huge.status).toBe(413);
  });

  it('keeps free-form settings whose keys are names of Object.prototype ("constructor", "toString")', async () => {
    const settings = { constructor: 'x', toString: { valueOf: 1 }, hasOwnProperty: true };
    const m = await makeMachine(api, { settings });
    expect(m.settings).toEqual(settings);
    expect((await api.get(`/v1/machines/${m.id}`)).body.settings).toEqual(settings);
    const repo = await api.createRepository({
      name: unique('proto'),
      site: 'local',
      kind: 'file',
      path: await tempDir('encompass-proto-'),
      settings: { constructor: 'x' },
    });
    expect(repo.status, JSON.stringify(repo.body)).toBe(201);
  });

  it('normalizes MAC addresses to lower case with colons', async () => {
    const m = await makeMachine(api, { identity: { macs: ['52-54-00-AB-CD-EF'] } });
    expect(m.identity.macs).toEqual(['52:54:00:ab:cd:ef']);
  });

  it('stops a catastrophically backtracking regex in bounded time and changes nothing', async () => {
    const { dir, master } = await makeMaster(api, {
      files: { 'etc/hostname': 'template\n', 'etc/banner': `${'a'.repeat(40)}b\n` },
      customization: [
        { type: 'file', path: '/etc/hostname', content: '${hostname}\n' },
        { type: 'replace', path: '/etc/banner', pattern: '(a+)+$', replacement: 'x' },
      ],
    });
    const clone = await makeClone(api, master.id);
    const machine = await makeMachine(api);
    const started = Date.now();
    const op = await api.run(`/v1/clones/${clone.id}/assign`, {
      machine: machine.id,
      customization: { variables: { hostname: 'h1' } },
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(op.status).toBe('failed');
    expect(op.error.code).toBe('regex_timeout');
    const after = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(after).toMatchObject({
      binding: 'unassigned',
      customization: { applied: 0 },
      lastError: { code: 'regex_timeout' },
    });
    expect(after.lock).toBeUndefined();
    expect((await api.get(`/v1/machines/${machine.id}`)).body.clone).toBeUndefined();
    // The item before the bad one was undone too, or never applied: the image is as cloned.
    expect(await debugfsCat(join(dir, clone.path), '/etc/hostname')).toBe('template\n');
  });

  describe('a full disk', () => {
    let mnt: string;
    beforeAll(async () => {
      mnt = await tempDir('encompass-full-');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
    });
    afterAll(() => {
      execFileSync('umount', [mnt]);
    });

    it('fails the clone with disk_full and leaves no clone record and no temp file', async () => {
      const { status, body: r } = await api.createRepository({
        name: unique('tiny'),
        site: 'local',
        kind: 'file',
        path: mnt,
      });
      expect(status).toBe(201);
      const random = randomBytes(14 * 1024 * 1024);
      const root = await tempDir('encompass-big-');
      await writeFile(join(root, 'blob'), random);
      execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, join(mnt, 'big.img'), '20M']);
      const imported = await api.run('/v1/masters', { name: unique('big'), repository: r.name, path: 'big.img' });
      expect(imported.status).toBe('succeeded');
      const name = unique('full');
      const op = await api.run('/v1/clones', { master: imported.result.master, name });
      expect(op.status).toBe('failed');
      expect(op.error.code).toBe('disk_full');
      expect((await api.get(`/v1/clones/${name}`)).status).toBe(404);
      const left = await readdir(mnt, { recursive: true });
      expect(left.filter((f) => String(f).includes('.encompass-tmp-'))).toEqual([]);
    });
  });
});
