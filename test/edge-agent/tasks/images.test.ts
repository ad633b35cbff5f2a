/** The storage tasks run again after an agent died midway: each finds its earlier result. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../edge-agent/drivers/storage/interface';
import { ExportBook } from '../../../edge-agent/exports';
import { createDrivers } from '../../../edge-agent/registry';
import type { TaskContext } from '../../../edge-agent/tasks/context';
import { captureImage, cloneImage, importImage, relocateImage } from '../../../edge-agent/tasks/images';
import { exists, MiB, makeSparseImage, SPARSE_64M_REGIONS, sha256OfFile } from '../drivers/storage/images';

describe('storage tasks', () => {
  let dir: string;
  let repo: RepositoryRef;
  let ctx: TaskContext;
  const inRepo = (rel: string) => path.join(repo.path, rel);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-tasks-'));
    await fs.mkdir(path.join(dir, 'repo'));
    repo = { id: 'r1', kind: 'file', path: path.join(dir, 'repo') };
    ctx = {
      operation: 'op-1',
      host: 'test',
      drivers: createDrivers({ stateDir: path.join(dir, 'state'), storage: ['file'], machines: [] }),
      report: () => {},
      signal: new AbortController().signal,
      seen: () => {},
      exports: new ExportBook(path.join(dir, 'state')),
      secrets: { resolve: (ref) => Promise.reject(new Error(`image tasks resolve no secret (asked for ${ref})`)) },
      hooks: {},
    };
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  describe('clone', () => {
    beforeEach(async () => makeSparseImage(inRepo('masters/m.img'), 16 * MiB, SPARSE_64M_REGIONS.slice(0, 2)));
    const input = async (method: string) => ({
      source: { repository: repo, path: 'masters/m.img' },
      target: { repository: repo, path: 'clones/c' },
      method,
      sha256: await sha256OfFile(inRepo('masters/m.img')),
    });

    it('names a standalone clone .img, chosen for auto, and a linked one .qcow2 with its backing', async () => {
      const auto = await cloneImage(await input('auto'), ctx);
      expect(auto).toMatchObject({ path: 'clones/c.img', format: 'raw' });
      expect(auto.method).not.toBe('overlay');
      await fs.rm(inRepo('clones'), { recursive: true });
      const linked = await cloneImage(await input('overlay'), ctx);
      expect(linked).toMatchObject({ path: 'clones/c.qcow2', format: 'qcow2', backing: 'masters/m.img' });
    });

    it('describes a clone already renamed into place instead of failing on its name', async () => {
      const first = await cloneImage(await input('copy'), ctx);
      const again = await cloneImage(await input('copy'), ctx);
      expect(again).toEqual(first);
      const linked = await cloneImage(await input('overlay'), ctx);
      expect(await cloneImage(await input('overlay'), ctx)).toMatchObject({
        path: linked.path,
        backing: 'masters/m.img',
      });
    });

    it('still refuses a name taken by an image with other bytes', async () => {
      await makeSparseImage(inRepo('clones/c.img'), MiB, [{ offset: 0, length: 4096 }]);
      await expect(cloneImage(await input('copy'), ctx)).rejects.toMatchObject({ code: 'image_exists' });
    });

    it('replaces its own leftover with other bytes (same operation), and makes a whole clone', async () => {
      await cloneImage(await input('copy'), ctx);
      // What an interrupted run left: the clone's name, with bytes that are not the master's.
      await fs.writeFile(inRepo('clones/c.img'), Buffer.alloc(MiB, 5));
      const again = await cloneImage(await input('copy'), ctx);
      expect(again.sha256).toBe(await sha256OfFile(inRepo('masters/m.img')));
      expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(again.sha256);
    });

    it("refuses a complete clone that another operation of the same name left, even with the master's bytes", async () => {
      await cloneImage(await input('copy'), { ...ctx, operation: 'op-earlier' });
      const before = await sha256OfFile(inRepo('clones/c.img'));
      await expect(cloneImage(await input('copy'), ctx)).rejects.toMatchObject({ code: 'image_exists' });
      expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(before);
      // A linked clone (a qcow2 overlay) left by another operation is no more this one's.
      await cloneImage(await input('overlay'), { ...ctx, operation: 'op-earlier' });
      await expect(cloneImage(await input('overlay'), ctx)).rejects.toMatchObject({ code: 'image_exists' });
    });
  });

  describe('relocate', () => {
    let other: RepositoryRef;
    beforeEach(async () => {
      other = { id: 'r2', kind: 'file', path: path.join(dir, 'other') };
      await fs.mkdir(other.path);
      await makeSparseImage(inRepo('clones/c.img'), 16 * MiB, SPARSE_64M_REGIONS.slice(0, 2));
    });
    const input = () => ({
      source: { repository: repo, path: 'clones/c.img', format: 'raw' as const },
      target: { repository: other, path: 'clones/c.img', format: 'raw' as const },
    });

    it('copies the image into the other repository, with copy and verify progress, and leaves the source', async () => {
      const steps = new Set<string | undefined>();
      const sha = await sha256OfFile(inRepo('clones/c.img'));
      const out = await relocateImage(input(), { ...ctx, report: (_p, step) => steps.add(step) });
      expect(out).toMatchObject({ path: 'clones/c.img', sha256: sha, sizeBytes: 16 * MiB, format: 'raw' });
      expect(await sha256OfFile(path.join(other.path, 'clones/c.img'))).toBe(sha);
      expect(await exists(inRepo('clones/c.img'))).toBe(true);
      expect([...steps]).toEqual(['copy', 'verify']);
    });

    it('run again after the copy took its name, describes it instead of copying again', async () => {
      const first = await relocateImage(input(), ctx);
      const { ino } = await fs.stat(path.join(other.path, 'clones/c.img'));
      expect(await relocateImage(input(), ctx)).toEqual(first);
      expect((await fs.stat(path.join(other.path, 'clones/c.img'))).ino).toBe(ino);
    });

    it("refuses a place another operation's image holds, and leaves it alone", async () => {
      await relocateImage(input(), { ...ctx, operation: 'op-earlier' });
      await expect(relocateImage(input(), ctx)).rejects.toMatchObject({ code: 'image_exists' });
    });
  });

  describe('capture', () => {
    const input = () => ({
      image: { repository: repo, path: 'clones/c.img', format: 'raw' as const },
      target: 'masters/v2.img',
    });

    it('moves the clone to the master, and a retry after the move only removes what is left', async () => {
      await makeSparseImage(inRepo('clones/c.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      const sha = await sha256OfFile(inRepo('clones/c.img'));
      const captured = await captureImage(input(), ctx);
      expect(captured).toMatchObject({ path: 'masters/v2.img', sha256: sha, format: 'raw' });

      // An agent that died after the move left the clone's sidecar behind.
      await fs.mkdir(inRepo('clones/c.img.encompass/undo'), { recursive: true });
      expect(await captureImage(input(), ctx)).toEqual(captured);
      expect(await exists(inRepo('clones/c.img.encompass'))).toBe(false);
    });
  });

  describe('import with a pull', () => {
    const bytes = Buffer.alloc(2 * MiB, 7);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let server: Server;
    let requests: (string | undefined)[];
    let url: string;

    beforeEach(async () => {
      requests = [];
      server = createServer((req, res) => {
        requests.push(req.headers.range);
        const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
        res.writeHead(from ? 206 : 200, { 'content-length': bytes.length - from });
        res.end(bytes.subarray(from));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    const input = () => ({
      repository: repo,
      path: 'masters/up.img',
      // The bytes are no disk image: the request says raw.
      format: 'raw' as const,
      pull: { upload: 'up-1', key: 'uploads/masters/up-1/up.img', url, sizeBytes: bytes.length, sha256 },
    });

    it('resumes a partial pull where it stopped and puts the image in place', async () => {
      await fs.mkdir(inRepo('masters'));
      await fs.writeFile(inRepo('masters/.encompass-partial-up.img'), bytes.subarray(0, MiB));
      expect(await importImage(input(), ctx)).toMatchObject({ path: 'masters/up.img', sha256, sizeBytes: 2 * MiB });
      expect(requests).toEqual([`bytes=${MiB}-`]);
      expect(await exists(inRepo('masters/.encompass-partial-up.img'))).toBe(false);
    });

    it('does not pull again once the image is in place', async () => {
      const first = await importImage(input(), ctx);
      expect(await importImage(input(), ctx)).toEqual(first);
      expect(requests).toHaveLength(1);
    });

    it('refuses to pull onto an image it did not pull, and leaves that image alone', async () => {
      await makeSparseImage(inRepo('masters/up.img'), MiB, [{ offset: 0, length: 4096 }]);
      const before = await sha256OfFile(inRepo('masters/up.img'));
      await expect(importImage(input(), ctx)).rejects.toMatchObject({ code: 'image_exists' });
      expect(await sha256OfFile(inRepo('masters/up.img'))).toBe(before);
      expect(requests).toEqual([]);
    });

    it('removes the image it pulled when the image is refused, leaving nothing', async () => {
      const { format: _raw, ...unsaid } = input();
      await expect(importImage(unsaid, ctx)).rejects.toMatchObject({ code: 'unrecognized_image' });
      expect(await fs.readdir(inRepo('masters'))).toEqual([]);
    });
  });
});
