/**
 * Export and import within one site: S3 bundles, re-runs that change nothing, a resumed copy, name
 * conflicts under each onConflict, a dry run's plan, and bad input answered 4xx with nothing changed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../../support/api';
import { hostnameItems, makeMaster, makeRepository, unique } from '../../support/fixtures';

const api = Api.admin();
const stack = inject('stack');
const s3 = new S3Client({
  endpoint: stack.endpoints.s3,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});

/** POSTs and waits; the record's id and the ended operation. */
async function run(path: string, body: unknown) {
  const r = await api.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return { id: r.body.id as string, op: await api.wait(r.body.operation, 90_000) };
}

describe('exports and imports within one site', () => {
  let source: Awaited<ReturnType<typeof makeMaster>>;
  let exportId: string;
  let target: Awaited<ReturnType<typeof makeRepository>>;

  beforeAll(async () => {
    source = await makeMaster(api, { requirements: { minCpus: 2 } });
    target = await makeRepository(api);
    const { id, op } = await run('/v1/exports', { masters: [source.master.name] });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    exportId = id;
  }, 120_000);

  it('writes an S3 bundle whose manifest lists the master with its sha256, parts and template', async () => {
    const e = (await api.get(`/v1/exports/${exportId}`)).body;
    expect(e).toMatchObject({ status: 'succeeded', to: { s3: `exports/${exportId}/` }, objects: 1 });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'encompass', Key: `exports/${exportId}/manifest.json` }));
    const manifest = JSON.parse(await got.Body!.transformToString());
    expect(manifest).toMatchObject({
      format: 'encompass-bundle',
      version: 1,
      site: { name: 'local' },
      algorithm: 'sha256',
    });
    expect(manifest.objects).toEqual([
      expect.objectContaining({
        kind: 'master',
        id: source.master.id,
        name: source.master.name,
        version: 1,
        sha256: source.master.sha256,
        sizeBytes: 16 * 1024 * 1024,
        parts: [expect.any(String), expect.any(String), expect.any(String), expect.any(String)],
        customization: hostnameItems,
      }),
    ]);
    expect((await api.get('/v1/exports?limit=500')).body.items.some((x: any) => x.id === exportId)).toBe(true);
  });

  it('skips what the site already has: same name, version and sha256', async () => {
    const { id, op } = await run('/v1/imports', { bundle: { s3: exportId }, site: 'local' });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(op.result.created.masters).toEqual([]);
    expect(op.result.skipped).toEqual([
      { name: `${source.master.name}@1`, reason: 'the site has it: same name, version and sha256' },
    ]);
    expect((await api.get(`/v1/imports/${id}`)).body.status).toBe('succeeded');
  });

  it('puts back a deleted master from the bundle, resuming a partial copy, and a second import changes nothing', async () => {
    const name = source.master.name;
    expect((await api.del(`/v1/masters/${name}`)).status).toBe(200);
    // An earlier copy that stopped after its first part: that part is kept, the rest is fetched.
    const image = await readFile(join(source.dir, 'masters/base.img'));
    await mkdir(join(target.dir, 'masters'), { recursive: true });
    await writeFile(
      join(target.dir, `masters/.encompass-partial-${name}-v1.img`),
      image.subarray(0, 4 * 1024 * 1024 + 100),
    );
    const body = {
      bundle: { s3: exportId },
      site: 'local',
      rebinding: { repositories: { [source.repo.name]: target.repo.name } },
    };
    const { op } = await run('/v1/imports', body);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(op.result.created.masters).toEqual([`${name}@1`]);
    expect(op.result.keptBytes).toBe(4 * 1024 * 1024);
    expect(op.result.copiedBytes).toBe(image.length - 4 * 1024 * 1024);
    const m = (await api.get(`/v1/masters/${name}`)).body;
    expect(m).toMatchObject({
      sha256: source.master.sha256,
      version: 1,
      repository: target.repo.id,
      customization: hostnameItems,
      requirements: { minCpus: 2 },
    });
    expect((await readFile(join(target.dir, `masters/${name}-v1.img`))).equals(image)).toBe(true);
    const again = await run('/v1/imports', body);
    expect(again.op.result.created).toEqual({ masters: [], clones: [], machines: [] });
    expect((await api.get(`/v1/masters/${name}`)).body.id).toBe(m.id);
  }, 60_000);

  it('lists a name conflict and a missing repository in a dry run, and skips, renames or refuses it', async () => {
    // The bundle's master name now names another image here, and its repository is gone.
    const other = await makeMaster(api, { files: { 'etc/hostname': 'other\n' } });
    const bundled = await makeMaster(api);
    const { id: ex } = await run('/v1/exports', { masters: [bundled.master.name] });
    expect((await api.del(`/v1/masters/${bundled.master.name}`)).status).toBe(200);
    expect((await api.del(`/v1/repositories/${bundled.repo.id}`)).status).toBe(200);
    const clash = await run('/v1/masters', {
      name: bundled.master.name,
      repository: other.repo.name,
      path: 'masters/base.img',
    });
    expect(clash.op.status).toBe('succeeded');
    const name = bundled.master.name;
    const before = (await api.get(`/v1/masters/${name}`)).body;

    const dry = await run('/v1/imports', { bundle: { s3: ex }, site: 'local', dryRun: true, onConflict: 'rename' });
    expect(dry.op.status, JSON.stringify(dry.op)).toBe('succeeded');
    expect(dry.op.result.plan.conflicts).toEqual([
      expect.objectContaining({ kind: 'master', name, resolution: 'rename', as: `${name}-local` }),
    ]);
    expect(dry.op.result.plan.missing).toEqual([
      { kind: 'repository', name: bundled.repo.name, neededBy: `master ${name}@1` },
    ]);
    expect((await api.get(`/v1/masters/${name}-local`)).status).toBe(404);

    const rebinding = { repositories: { [bundled.repo.name]: target.repo.name } };
    const missing = await run('/v1/imports', { bundle: { s3: ex }, site: 'local', onConflict: 'rename' });
    expect(missing.op).toMatchObject({ status: 'failed', error: { code: 'missing_rebinding' } });
    const refused = await run('/v1/imports', { bundle: { s3: ex }, site: 'local', rebinding, onConflict: 'fail' });
    expect(refused.op).toMatchObject({ status: 'failed', error: { code: 'import_conflict' } });
    expect(refused.op.error.message).toContain(name);
    const skipped = await run('/v1/imports', { bundle: { s3: ex }, site: 'local', rebinding, onConflict: 'skip' });
    expect(skipped.op.status).toBe('succeeded');
    expect(skipped.op.result.created.masters).toEqual([]);
    expect((await api.get(`/v1/masters/${name}`)).body).toMatchObject({ id: before.id, rev: before.rev });

    const renamed = await run('/v1/imports', { bundle: { s3: ex }, site: 'local', rebinding, onConflict: 'rename' });
    expect(renamed.op.status, JSON.stringify(renamed.op)).toBe('succeeded');
    expect(renamed.op.result.created.masters).toEqual([`${name}-local@1`]);
    expect((await api.get(`/v1/masters/${name}-local`)).body.sha256).toBe(bundled.master.sha256);
    expect((await api.get(`/v1/masters/${name}`)).body.sha256).toBe(before.sha256);
  }, 120_000);

  it('answers bad input with a 4xx that says what is wrong, and starts nothing', async () => {
    const unknown = await api.post('/v1/exports', { masters: [unique('nosuch')] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/no master with id or name/);
    const outside = await api.post('/v1/exports', {
      masters: [source.master.name],
      to: { repository: target.repo.name, path: '../x' },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe('invalid_path');
    const importOutside = await api.post('/v1/imports', {
      bundle: { repository: target.repo.name, path: '../../etc' },
      site: 'local',
    });
    expect(importOutside.status).toBe(400);
    const none = await api.post('/v1/imports', { bundle: { s3: 'ex-aaaaaaaaaaaa' }, site: 'local' });
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('bundle_not_found');
    const key = `bundles/${unique('garbage')}/`;
    await s3.send(
      new PutObjectCommand({ Bucket: 'encompass', Key: `${key}manifest.json`, Body: '{"format":"zip","objects":7}' }),
    );
    const garbage = await api.post('/v1/imports', { bundle: { s3: key }, site: 'local' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ code: 'bundle_invalid' });
    expect(garbage.body.error.message).toMatch(/manifest\.format/);
    const badRebinding = await api.post('/v1/imports', {
      bundle: { s3: exportId },
      site: 'local',
      rebinding: { repositories: { a: unique('nosuch') } },
    });
    expect(badRebinding.status).toBe(400);
    expect(badRebinding.body.error.problems[0]).toMatch(/^body\.rebinding\.repositories\.a: no repository/);
    const sloppy = await api.post('/v1/imports', { bundle: { s3: exportId }, site: 'local', onConflict: 'overwrite' });
    expect(sloppy.status).toBe(400);
  });

  it('writes a bundle into a folder of a file repository, and refuses a second export into it', async () => {
    const first = await run('/v1/exports', {
      masters: [source.master.name],
      to: { repository: target.repo.name, path: 'bundles/one' },
    });
    expect(first.op.status, JSON.stringify(first.op)).toBe('succeeded');
    const manifest = JSON.parse(await readFile(join(target.dir, 'bundles/one/manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'encompass-bundle', algorithm: 'sha256', partBytes: 4 * 1024 * 1024 });
    expect(manifest.objects[0]).toMatchObject({
      kind: 'master',
      sha256: source.master.sha256,
      parts: expect.any(Array),
    });
    const second = await run('/v1/exports', {
      masters: [source.master.name],
      to: { repository: target.repo.name, path: 'bundles/one' },
    });
    expect(second.op).toMatchObject({ status: 'failed', error: { code: 'bundle_exists' } });
    await writeFile(join(target.dir, 'bundles/one/manifest.json'), 'not json');
    const unreadable = await run('/v1/imports', {
      bundle: { repository: target.repo.name, path: 'bundles/one' },
      site: 'local',
    });
    expect(unreadable.op).toMatchObject({ status: 'failed', error: { code: 'bundle_unreadable' } });
  }, 60_000);
});
