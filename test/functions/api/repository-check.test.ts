/**
 * Repository checks through the API, with the real agent on real files: stray temp output goes,
 * images no record names are orphans that an operator removes (audited) or adopts as a master, and
 * records whose image is gone are reported missing. Bad input is a 4xx naming the field.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMaster, unique } from '../../support/fixtures';
import { baseFiles, makeExt4 } from '../../support/images';

const api = Api.admin();
const enc = encodeURIComponent;

async function sha256(path: string) {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

const present = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('repository checks', () => {
  let dir: string;
  let repo: { id: string; name: string };
  let gone: { id: string; name: string; path: string };
  let check: any;

  beforeAll(async () => {
    const made = await makeMaster(api);
    ({ dir, repo } = made);
    await makeClone(api, made.master.id);
    gone = await makeClone(api, made.master.id);
    await rm(join(dir, gone.path));
    await makeExt4(join(dir, 'clones/left.img'), baseFiles);
    await makeExt4(join(dir, 'masters/found.img'), baseFiles);
    await writeFile(join(dir, 'masters/taken.img'), Buffer.alloc(1024 * 1024));
    await writeFile(join(dir, 'clones/.encompass-tmp-0123456789ab-left.img'), 'half a copy');
    await writeFile(join(dir, 'masters/.encompass-partial-dropped.img'), 'half an upload');
    const r = await api.post(`/v1/repositories/${repo.name}/check`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    check = await api.wait(r.body.operation);
  }, 120_000);

  it('reports the images no record names as orphans, and removes stray temp output', async () => {
    expect(check).toMatchObject({ kind: 'check', status: 'succeeded', resource: { kind: 'repository', id: repo.id } });
    const orphans = check.result.orphans as any[];
    expect(orphans.map((o) => o.path)).toEqual(['clones/left.img', 'masters/found.img', 'masters/taken.img']);
    const left = orphans[0];
    const st = await stat(join(dir, 'clones/left.img'));
    expect(left).toMatchObject({
      format: 'raw',
      filesystem: 'ext4',
      sizeBytes: st.size,
      modifiedAt: st.mtime.toISOString(),
    });
    expect(check.result.removed.sort()).toEqual([
      'clones/.encompass-tmp-0123456789ab-left.img',
      'masters/.encompass-partial-dropped.img',
    ]);
    expect(await present(join(dir, 'clones/.encompass-tmp-0123456789ab-left.img'))).toBe(false);
    expect(await present(join(dir, 'clones/left.img'))).toBe(true);
  });

  it('reports a record whose image is gone as missing', () => {
    expect(check.result.missing).toEqual([{ kind: 'clone', id: gone.id, name: gone.name, path: gone.path }]);
  });

  it('lists what the last check found', async () => {
    const r = await api.get(`/v1/repositories/${repo.id}/orphans`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ repository: repo.id, operation: check.id, checkedAt: expect.any(String) });
    expect(r.body.items.map((o: any) => o.path)).toEqual(check.result.orphans.map((o: any) => o.path));
  });

  it('removes an orphan from the storage, audited, and lists it no more', async () => {
    const r = await api.del(`/v1/repositories/${repo.name}/orphans/${enc('clones/left.img')}`);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation);
    expect(op).toMatchObject({ kind: 'remove_orphan', status: 'succeeded', result: { removed: 'clones/left.img' } });
    expect(await present(join(dir, 'clones/left.img'))).toBe(false);
    const audit = (await api.get('/v1/audit?limit=100')).body.items.filter((a: any) => a.operation === op.id);
    expect(audit.map((a: any) => a.outcome).sort()).toEqual(['accepted', 'succeeded']);
    expect(audit[0].resource).toMatchObject({ kind: 'orphan', name: 'clones/left.img' });
    const listed = (await api.get(`/v1/repositories/${repo.id}/orphans`)).body.items.map((o: any) => o.path);
    expect(listed).not.toContain('clones/left.img');
    const again = await api.del(`/v1/repositories/${repo.name}/orphans/${enc('clones/left.img')}`);
    expect(again.status).toBe(404);
  });

  it('adopts an orphan as a master where it lies, with the facts an import finds', async () => {
    const file = join(dir, 'masters/found.img');
    const inode = (await stat(file)).ino;
    const name = unique('adopted');
    const r = await api.post(`/v1/repositories/${repo.id}/orphans/${enc('masters/found.img')}/adopt`, { name });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect((await api.wait(r.body.operation)).status).toBe('succeeded');
    const master = (await api.get(`/v1/masters/${name}`)).body;
    expect(master).toMatchObject({
      status: 'ready',
      repository: repo.id,
      path: 'masters/found.img',
      sha256: await sha256(file),
      format: 'raw',
      filesystem: { type: 'ext4' },
    });
    expect((await stat(file)).ino).toBe(inode);
    const listed = (await api.get(`/v1/repositories/${repo.id}/orphans`)).body.items.map((o: any) => o.path);
    expect(listed).not.toContain('masters/found.img');
  });

  it('refuses to remove or adopt an orphan that a record names since the check, and keeps the file', async () => {
    const op = await api.run('/v1/masters', {
      name: unique('taken'),
      repository: repo.id,
      path: 'masters/taken.img',
      format: 'raw',
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const del = await api.del(`/v1/repositories/${repo.id}/orphans/${enc('masters/taken.img')}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('not_orphan');
    const adopt = await api.post(`/v1/repositories/${repo.id}/orphans/${enc('masters/taken.img')}/adopt`, {
      name: unique('twice'),
    });
    expect(adopt.body.error.code).toBe('not_orphan');
    expect(await present(join(dir, 'masters/taken.img'))).toBe(true);
  });

  it('answers bad input with a 4xx that names the field, and starts nothing', async () => {
    const bad = await api.del(`/v1/repositories/${repo.id}/orphans/${enc('../etc/passwd')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems[0]).toMatch(/^path\.name: /);
    const noName = await api.post(`/v1/repositories/${repo.id}/orphans/${enc('masters/taken.img')}/adopt`, {});
    expect(noName.status).toBe(400);
    expect(noName.body.error.problems[0]).toMatch(/^body\.name: /);
    const extra = await api.post(`/v1/repositories/${repo.id}/orphans/x.img/adopt`, { name: 'x', path: '/etc' });
    expect(extra.body.error.problems).toEqual([expect.stringMatching(/^body\.path: /)]);
    expect((await api.post('/v1/repositories/rp-nosuchrepo00/check', {})).status).toBe(404);
    const unknown = await api.del(`/v1/repositories/${repo.id}/orphans/never.img`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('POST /v1/repositories');
  });

  it('refuses to check a repository whose site has no agent, saying to start one', async () => {
    const site = (await api.post('/v1/sites', { name: unique('noagent') })).body;
    const path = join(dir, 'elsewhere');
    await mkdir(path);
    const r = (await api.post('/v1/repositories', { name: unique('r'), site: site.name, kind: 'file', path })).body;
    const refused = await api.post(`/v1/repositories/${r.id}/check`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'no_agent', site: site.name });
    expect((await api.del(`/v1/repositories/${r.id}`)).status).toBe(200);
    expect((await api.del(`/v1/sites/${site.id}`)).status).toBe(200);
  });

  it("checks every repository of the site when the site's agent reports a new start", async () => {
    const agent = api.as((await api.post('/v1/tokens', { role: 'agent', site: 'local' })).body.token);
    const site = (await api.get('/v1/sites/local')).body;
    const host = Object.keys(site.agents)[0]!;
    const startedAt = site.agents[host].startedAt;
    const same = await agent.call('PUT', `/v1/sites/local/agents/${host}`, { startedAt });
    expect(same.body.checks).toBeUndefined();
    // A changed start is what a restart looks like; the real agent's next heartbeat reports its own again.
    const restarted = await agent.call('PUT', `/v1/sites/local/agents/${host}`, {
      startedAt: new Date().toISOString(),
    });
    expect(restarted.status).toBe(200);
    const ops = await Promise.all((restarted.body.checks as string[]).map((id) => api.get(`/v1/operations/${id}`)));
    expect(ops.map((o) => o.body.resource.id)).toContain(repo.id);
    for (const o of ops) await api.wait(o.body.id, 120_000);
  }, 180_000);
});
