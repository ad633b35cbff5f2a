/** Uploading a master starts its import by itself: multipart, duplicates, a wrong checksum. */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../../support/api';
import { makeMaster, makeRepository, unique } from '../../support/fixtures';
import { baseFiles, makeExt4 } from '../../support/images';

const api = Api.admin();
const stack = inject('stack');
const s3 = new S3Client({
  endpoint: stack.endpoints.s3,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});

async function sha256(path: string) {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The import an upload answered with, once it ended: followed with waiting reads from the moment the upload is made. */
async function importOf(made: { operation: string }): Promise<any> {
  for (let i = 0; i < 10; i++) {
    const r = await api.get(`/v1/operations/${made.operation}?wait=20`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    if (r.body.status !== 'running') return r.body;
  }
  throw new Error(`import ${made.operation} did not end`);
}

describe('uploads', () => {
  let repo: { dir: string; repo: { name: string } };
  beforeAll(async () => {
    repo = await makeRepository(api);
  });

  it('imports a 110 MiB image uploaded in parts, once, and removes the upload object after', async () => {
    const image = join(repo.dir, '..', `${unique('up')}.img`);
    await makeExt4(image, baseFiles, 110);
    const size = (await stat(image)).size;
    const name = unique('uploaded');
    const made = await api.post('/v1/uploads', {
      name,
      repository: repo.repo.name,
      sizeBytes: size,
      sha256: await sha256(image),
      profile: { service: 'uploaded' },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.method).toBe('multipart');
    expect(made.body.parts).toHaveLength(2);
    expect(made.body.key).toMatch(/^uploads\/masters\//);

    const file = await open(image, 'r');
    const etags: string[] = [];
    for (const part of made.body.parts) {
      const start = (part.partNumber - 1) * made.body.partBytes;
      const length = Math.min(made.body.partBytes, size - start);
      const buf = Buffer.alloc(length);
      await file.read(buf, 0, length, start);
      const res = await fetch(part.url, { method: 'PUT', body: buf });
      expect(res.status).toBe(200);
      etags.push(res.headers.get('etag')!);
    }
    await file.close();
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await fetch(made.body.complete.url, { method: 'POST', body: xml });
    expect(done.status, await done.clone().text()).toBe(200);

    const op = await importOf(made.body);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(op.steps.map((s: { name: string }) => s.name)).toContain('pull');
    const master = (await api.get(`/v1/masters/${name}`)).body;
    expect(master).toMatchObject({
      status: 'ready',
      sizeBytes: size,
      sha256: await sha256(image),
      profile: { service: 'uploaded' },
      filesystem: { type: 'ext4' },
    });
    expect(await sha256(join(repo.dir, master.path))).toBe(master.sha256);

    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'encompass', Prefix: made.body.key }));
    expect(left.KeyCount ?? 0).toBe(0);

    // The same event again (a duplicate delivery) imports nothing more.
    const again = await fetch(`${stack.url}/internal/events/s3`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-encompass-internal': stack.env.ENCOMPASS_INTERNAL_SECRET! },
      body: JSON.stringify({
        Records: [
          {
            eventName: 'ObjectCreated:CompleteMultipartUpload',
            s3: { bucket: { name: 'encompass' }, object: { key: made.body.key, size } },
          },
        ],
      }),
    });
    expect((await again.json()).ignored).toBeDefined();
    const ops = (await api.get('/v1/operations?limit=100')).body.items.filter(
      (o: any) => o.kind === 'import' && o.resource.name === name,
    );
    expect(ops).toHaveLength(1);
  });

  it('imports once when the same upload event is delivered 5 times at once', async () => {
    const image = join(repo.dir, '..', `${unique('up')}.img`);
    await makeExt4(image, baseFiles, 8);
    const size = (await stat(image)).size;
    const name = unique('dup');
    const made = await api.post('/v1/uploads', {
      name,
      repository: repo.repo.name,
      sizeBytes: size,
      sha256: await sha256(image),
    });
    expect(made.body.method).toBe('PUT');
    expect((await fetch(made.body.url, { method: 'PUT', body: await readFile(image) })).status).toBe(200);
    // S3 delivers the event once by itself; 4 more copies race it, as an at-least-once bus may deliver them.
    const event = JSON.stringify({
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'encompass' }, object: { key: made.body.key, size } } },
      ],
    });
    const deliveries = await Promise.all(
      [1, 2, 3, 4].map(() =>
        fetch(`${stack.url}/internal/events/s3`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-encompass-internal': stack.env.ENCOMPASS_INTERNAL_SECRET! },
          body: event,
        }),
      ),
    );
    for (const d of deliveries) expect(d.status, await d.clone().text()).toBeLessThan(300);
    const op = await importOf(made.body);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const ops = (await api.get('/v1/operations?limit=100')).body.items.filter(
      (o: any) => o.kind === 'import' && o.resource.name === name,
    );
    expect(ops).toHaveLength(1);
    expect((await api.get(`/v1/masters/${name}`)).body).toMatchObject({ status: 'ready', sha256: await sha256(image) });
    console.log(`reliability: 5 deliveries of one upload event, ${ops.length} import`);
  });

  it('fails an upload whose sha256 does not match, with no master record', async () => {
    const image = join(repo.dir, '..', `${unique('up')}.img`);
    await makeExt4(image, baseFiles, 8);
    const name = unique('wrongsum');
    const made = await api.post('/v1/uploads', {
      name,
      repository: repo.repo.name,
      sizeBytes: (await stat(image)).size,
      sha256: '0'.repeat(64),
    });
    expect(made.body.method).toBe('PUT');
    // Before anything is uploaded, the import's operation is there, waiting in its upload step.
    const before = await api.get(`/v1/operations/${made.body.operation}`);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body).toMatchObject({ id: made.body.operation, kind: 'import', status: 'running' });
    expect(before.body.steps.map((s: { name: string }) => s.name)).toEqual(['upload']);
    expect((await fetch(made.body.url, { method: 'PUT', body: await readFile(image) })).status).toBe(200);
    const op = await importOf(made.body);
    expect(op.id).toBe(made.body.operation);
    expect(op.resource.name).toBe(name);
    expect(op.status).toBe('failed');
    expect(op.error.code).toBe('checksum_mismatch');
    expect(op.error.message).toContain('0'.repeat(64));
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
  });

  it('refuses an upload for a master name that exists, and an unknown repository', async () => {
    const { master } = await makeMaster(api);
    const taken = await api.post('/v1/uploads', { name: master.name, repository: repo.repo.name, sizeBytes: 1024 });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('name_taken');
    const nowhere = await api.post('/v1/uploads', { name: unique('x'), repository: 'no-such-repo', sizeBytes: 1024 });
    expect(nowhere.status).toBe(404);
  });
});
