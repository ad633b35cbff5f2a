import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../infra/local/ports';
import { type ObjectCreatedEvent, type S3Local, s3ClientConfig, startS3 } from '../../../infra/local/s3';
import { aws, pidIsGone, tempDir } from './helpers';

const BUCKET = 'images';
const MiB = 1024 * 1024;

describe('local S3 server', () => {
  let home: { path: string; remove: () => Promise<void> };
  let port: number;
  let s3: S3Local | undefined;
  let client: S3Client;
  const events: ObjectCreatedEvent[] = [];
  const start = () =>
    startS3({
      dataDir: join(home.path, 's3'),
      port,
      logFile: join(home.path, 'logs', 's3.log'),
      buckets: [BUCKET, 'uploads'],
      onObjectCreated: (e) => events.push(e),
    });

  beforeAll(async () => {
    home = await tempDir('s3');
    port = await freePort();
    s3 = await start();
    client = new S3Client(s3ClientConfig(s3.endpoint));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
    await home.remove();
  });

  it('stores a streamed body byte for byte and gives it back', async () => {
    const body = randomBytes(3 * MiB + 17);
    const chunks = [body.subarray(0, MiB), body.subarray(MiB, 2 * MiB), body.subarray(2 * MiB)];
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'streamed.bin',
        Body: Readable.from(chunks),
        ContentLength: body.length,
      }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed.bin' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.length).toBe(body.length);
    expect(bytes.equals(body)).toBe(true);
    await vi.waitFor(() => expect(events.some((e) => e.key === 'streamed.bin')).toBe(true));
    expect(events.find((e) => e.key === 'streamed.bin')).toMatchObject({
      eventName: 'ObjectCreated:Put',
      bucket: BUCKET,
      size: body.length,
    });
  });

  it('pages ListObjectsV2 with continuation tokens', async () => {
    for (let i = 0; i < 5; i++) {
      await client.send(new PutObjectCommand({ Bucket: 'uploads', Key: `page/${i}.txt`, Body: `object ${i}` }));
    }
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: 'uploads', Prefix: 'page/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages++;
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(3);
    expect(keys).toEqual(['page/0.txt', 'page/1.txt', 'page/2.txt', 'page/3.txt', 'page/4.txt']);
  });

  it('completes a multipart upload and reports it once, with its key and size', async () => {
    const parts = [randomBytes(5 * MiB + 1), randomBytes(5 * MiB + 2)];
    const key = 'big/disk.raw';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: part }),
      );
      etags.push(r.ETag!);
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const size = parts[0]!.length + parts[1]!.length;
    await vi.waitFor(() => expect(events.filter((e) => e.key === key)).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 200));
    const mine = events.filter((e) => e.key === key);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ eventName: 'ObjectCreated:CompleteMultipartUpload', bucket: BUCKET, size });
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(true);
  }, 60_000);

  it('reports a server-side copy as an object created', async () => {
    await client.send(
      new CopyObjectCommand({ Bucket: 'uploads', Key: 'copied.txt', CopySource: 'uploads/page/0.txt' }),
    );
    await vi.waitFor(() =>
      expect(events.find((e) => e.key === 'copied.txt')).toMatchObject({ eventName: 'ObjectCreated:Copy', size: 8 }),
    );
  });

  it('lists the objects of a bucket to the AWS CLI', async () => {
    const out = await aws([
      's3',
      'ls',
      `s3://${BUCKET}`,
      '--recursive',
      '--endpoint-url',
      s3!.endpoint,
      '--region',
      'us-east-1',
    ]);
    expect(out).toContain('streamed.bin');
    expect(out).toContain('big/disk.raw');
  });

  it('keeps buckets and objects across a restart, and its process is gone after stop', async () => {
    const pid = s3!.pid;
    await s3!.stop();
    expect(pidIsGone(pid)).toBe(true);
    s3 = await start();
    const got = await client.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'page/3.txt' }));
    expect(await got.Body!.transformToString()).toBe('object 3');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['big/disk.raw', 'streamed.bin']);
  }, 60_000);
});
