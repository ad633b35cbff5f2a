/**
 * A repository's status, set by its site's agent: a new repository is `checking` until the agent has
 * found its path a directory it can write in (`ready`), or `unreachable` with the agent's reason; work
 * that would use one that is not ready is refused with a 409 saying what to do.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newId } from '../../../functions/store/ids';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';
import { baseFiles, makeExt4 } from '../../support/images';
import { stackDeps } from '../../support/store';

const api = Api.admin();

describe('repository status', () => {
  let dir: string;

  beforeAll(async () => {
    await mkdir(join(inject('stack').home, 'repos'), { recursive: true });
    dir = await mkdtemp(join(inject('stack').home, 'repos', 'status-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is checking when created, with the operation of its check, and ready once the agent found its path usable', async () => {
    const path = join(dir, 'fine');
    await mkdir(path);
    const created = await api.post('/v1/repositories', { name: unique('fine'), site: 'local', kind: 'file', path });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'checking', operation: expect.stringMatching(/^op-/) });
    const read = await api.get(`/v1/repositories/${created.body.id}?wait=20`);
    expect(read.body).toMatchObject({
      status: 'ready',
      root: { host: expect.any(String), freeBytes: expect.any(Number), totalBytes: expect.any(Number) },
    });
    expect(read.body.reason).toBeUndefined();
    const check = await api.get(`/v1/operations/${created.body.operation}`);
    expect(check.body).toMatchObject({ kind: 'check', status: 'succeeded', request: { scope: 'reach' } });
  });

  it('answers the create once checked with ?wait=', async () => {
    const path = join(dir, 'waited');
    await mkdir(path);
    const r = await api.post('/v1/repositories?wait=20', { name: unique('waited'), site: 'local', kind: 'file', path });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.status).toBe('ready');
  });

  it('is unreachable on a missing path, with the reason, and refuses an import; created and checked again, it is ready', async () => {
    const path = join(dir, 'later');
    const created = await api.createRepository({ name: unique('later'), site: 'local', kind: 'file', path });
    expect(created.status).toBe(201);
    const repo = created.body;
    expect(repo.status).toBe('unreachable');
    expect(repo.reason).toMatchObject({ code: 'repository_unreachable', operation: repo.operation });
    expect(repo.reason.message).toMatch(
      new RegExp(
        `^no such directory ${path} on agent \\S+; create it .*check it again: POST /v1/repositories/${repo.name}/check$`,
      ),
    );

    const refused = await api.post('/v1/masters', { name: unique('m'), repository: repo.name, path: 'masters/x.img' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('repository_not_ready');
    expect(refused.body.error.message).toContain(`repository ${repo.name} is unreachable, so it cannot take an import`);
    expect(refused.body.error.message).toContain(`no such directory ${path}`);
    const upload = await api.post('/v1/uploads', { name: unique('m'), repository: repo.name, sizeBytes: 1024 });
    expect(upload.status).toBe(409);
    expect(upload.body.error.code).toBe('repository_not_ready');

    await makeExt4(join(path, 'masters/base.img'), baseFiles);
    const again = await api.post(`/v1/repositories/${repo.id}/check`, {});
    expect(again.status).toBe(202);
    expect((await api.get(`/v1/repositories/${repo.id}`)).body.status).toBe('checking');
    const checked = await api.get(`/v1/repositories/${repo.id}?wait=20`);
    expect(checked.body).toMatchObject({ status: 'ready', operation: again.body.operation });
    expect(checked.body.reason).toBeUndefined();
    const imported = await api.run('/v1/masters', {
      name: unique('m'),
      repository: repo.name,
      path: 'masters/base.img',
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
  });

  it('is unreachable where a file stands in place of the directory, which no permission lets root past', async () => {
    const path = join(dir, 'a-file');
    await writeFile(path, 'not a directory');
    const repo = (await api.createRepository({ name: unique('file'), site: 'local', kind: 'file', path })).body;
    expect(repo.status).toBe('unreachable');
    expect(repo.reason.message).toContain(`${path} is not a directory (a file is there)`);
  });

  it('refuses a clone into a repository that is not ready, and a relocation into it', async () => {
    const good = join(dir, 'good');
    await makeExt4(join(good, 'masters/base.img'), baseFiles);
    const source = (await api.createRepository({ name: unique('good'), site: 'local', kind: 'file', path: good })).body;
    const master = await api.run('/v1/masters', {
      name: unique('m'),
      repository: source.name,
      path: 'masters/base.img',
    });
    expect(master.status).toBe('succeeded');
    const bad = (
      await api.createRepository({ name: unique('bad'), site: 'local', kind: 'file', path: join(dir, 'missing') })
    ).body;
    expect(bad.status).toBe('unreachable');
    const clone = await api.post('/v1/clones', {
      master: master.result.master,
      name: unique('c'),
      repository: bad.name,
    });
    expect(clone.status).toBe(409);
    expect(clone.body.error).toMatchObject({
      code: 'repository_not_ready',
      repository: bad.name,
      status: 'unreachable',
    });
    const made = await api.run('/v1/clones', { master: master.result.master, name: unique('c') });
    expect(made.status).toBe('succeeded');
    const moved = await api.post(`/v1/clones/${made.result.clone}/relocate`, { repository: bad.id });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('repository_not_ready');
  });

  it('reads a repository recorded before repositories had a status as ready', async () => {
    const deps = stackDeps();
    const name = unique('old');
    const id = newId('repository');
    const now = new Date().toISOString();
    const { status: _, ...item } = deps.repositories.toItem({
      id,
      name,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      site: 'local',
      kind: 'file',
      path: dir,
      status: 'ready',
    });
    await deps.db.transact([deps.db.putNew(item), deps.repositories.nameWrite(name, id)]);
    expect((await api.get(`/v1/repositories/${name}`)).body.status).toBe('ready');
    expect((await api.get('/v1/repositories?limit=100')).status).toBe(200);
    expect((await api.del(`/v1/repositories/${id}`)).status).toBe(200);
  });

  it('waits for an agent on a site that has none yet, saying so', async () => {
    const site = (await api.post('/v1/sites', { name: unique('noagent') })).body;
    const r = await api.post('/v1/repositories?wait=1', {
      name: unique('r'),
      site: site.name,
      kind: 'file',
      path: dir,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'checking', reason: { code: 'no_agent' } });
    expect(r.body.reason.message).toMatch(
      /^not checked yet: no edge agent of site .* its start checks the repository$/,
    );
    expect(r.body.operation).toBeUndefined();
    expect((await api.del(`/v1/repositories/${r.body.id}`)).status).toBe(200);
    expect((await api.del(`/v1/sites/${site.id}`)).status).toBe(200);
  });
});
