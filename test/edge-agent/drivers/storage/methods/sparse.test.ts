import { execFileSync } from 'node:child_process';
import { promises as fs, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import { allocatedBytes, exists, findTemps, MiB, makeSparseImage, SPARSE_64M_REGIONS, sha256OfFile } from '../images';

describe('sparse clones', () => {
  let repo: RepositoryRef;
  const driver = new FileStorageDriver();
  const inRepo = (rel: string) => path.join(repo.path, rel);

  beforeEach(async () => {
    repo = { id: 's', kind: 'file', path: await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-sparse-')) };
    await makeSparseImage(inRepo('masters/m.img'), 64 * MiB, SPARSE_64M_REGIONS);
    await fs.chmod(inRepo('masters/m.img'), 0o444);
  });
  afterEach(async () => fs.rm(repo.path, { recursive: true, force: true }));

  it("keep the master's holes and bytes, with rising progress up to the total, and a writable file", async () => {
    const progress: number[] = [];
    const out = await driver.clone(repo, 'masters/m.img', 'clones/c.img', 'sparse', {
      onProgress: (done, total) => {
        expect(total).toBe(64 * MiB);
        progress.push(done);
      },
    });
    const masterAllocated = await allocatedBytes(inRepo('masters/m.img'));
    expect(out).toMatchObject({
      method: 'sparse',
      format: 'raw',
      sizeBytes: 64 * MiB,
      sha256: await sha256OfFile(inRepo('masters/m.img')),
    });
    expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(out.sha256);
    expect(Math.abs(out.allocatedBytes - masterAllocated)).toBeLessThanOrEqual(masterAllocated * 0.05);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(64 * MiB);
    expect((await fs.stat(inRepo('clones/c.img'))).mode & 0o200).toBe(0o200);
    expect(await findTemps(repo.path)).toEqual([]);
  });

  it('leave nothing behind when aborted as they start', async () => {
    const ctl = new AbortController();
    const clone = driver.clone(repo, 'masters/m.img', 'aborted/c.img', 'sparse', {
      signal: ctl.signal,
      onProgress: () => ctl.abort(),
    });
    await expect(clone).rejects.toMatchObject({ name: 'OperationAbortedError', code: 'aborted' });
    expect(await exists(inRepo('aborted'))).toBe(false);
    expect(await findTemps(repo.path)).toEqual([]);
  });
});

describe('sparse clones on a 16 MiB filesystem', () => {
  let mountPoint: string;
  const driver = new FileStorageDriver();
  const inRepo = (rel: string) => path.join(mountPoint, rel);

  beforeAll(async () => {
    mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    execFileSync('umount', [mountPoint]);
    await fs.rmdir(mountPoint);
  });

  it('fail with DiskFullError when space runs out midway, removing the partial copy', async () => {
    await makeSparseImage(inRepo('m.img'), 32 * MiB, [{ offset: 0, length: 6 * MiB }]);
    let filled = false;
    // Another writer takes all remaining space as the clone starts.
    const fillDisk = () => {
      if (filled) return;
      filled = true;
      const free = statfsSync(mountPoint);
      try {
        writeFileSync(inRepo('filler'), Buffer.alloc(free.bavail * free.bsize, 1));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    };
    const clone = driver.clone({ id: 'small', kind: 'file', path: mountPoint }, 'm.img', 'c.img', 'sparse', {
      onProgress: fillDisk,
    });
    await expect(clone).rejects.toMatchObject({ name: 'DiskFullError', code: 'disk_full', repoPath: mountPoint });
    expect(await exists(inRepo('c.img'))).toBe(false);
    expect(await findTemps(mountPoint)).toEqual([]);
  });
});
