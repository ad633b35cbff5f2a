import { execFileSync } from 'node:child_process';
import { promises as fs, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiskFullError } from '../../../../edge-agent/drivers/storage/errors';
import { FileStorageDriver } from '../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../edge-agent/drivers/storage/interface';
import { exists, findTemps, MiB, makeSparseImage, requireTool, sha256OfFile } from './images';
import { type LoopFs, mountXfsReflink, unmountLoopFs } from './loop-fs';
import { describeStorageConformance, type StorageFixture } from './storage.case';

/** A file repository in `dir`: its disks are the image files, read by path by anyone on the host. */
function fileRepo(id: string, dir: string): StorageFixture {
  return {
    driver: new FileStorageDriver(),
    repo: { id, kind: 'file', path: dir },
    guarded: false,
    diskKind: 'file',
    readDisk: async (disk) => (disk.kind === 'file' ? sha256OfFile(disk.path) : null),
    grants: async () => [],
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

describeStorageConformance('file', async () => {
  requireTool('qemu-img', 'qemu-utils');
  return fileRepo('repo-test', await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-file-repo-')));
});

describe('on an XFS filesystem with reflink', () => {
  let xfs: LoopFs | undefined;
  beforeAll(() => {
    xfs = mountXfsReflink();
  });
  afterAll(() => {
    if (xfs) unmountLoopFs(xfs);
  });

  describeStorageConformance('file', async () =>
    fileRepo('repo-xfs', await fs.mkdtemp(path.join(xfs!.mountPoint, 'repo-'))),
  );
});

describe('file storage driver', () => {
  const driver = new FileStorageDriver();

  it('refuses a repository given by a relative path', async () => {
    await expect(driver.freeBytes({ id: 'r', kind: 'file', path: 'relative/repo' })).rejects.toMatchObject({
      code: 'repository_unavailable',
    });
  });

  describe('on a 16 MiB filesystem', () => {
    let mountPoint: string;
    let repo: RepositoryRef;
    const inRepo = (rel: string) => path.join(repo.path, rel);

    beforeAll(async () => {
      mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-tmpfs-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'pipe' });
      } catch (err) {
        throw new Error(
          `Mounting a 16 MiB tmpfs at ${mountPoint} failed; these tests must run as root with mount allowed`,
          {
            cause: err,
          },
        );
      }
      repo = { id: 'small', kind: 'file', path: mountPoint };
    });

    afterEach(async () => {
      for (const entry of await fs.readdir(mountPoint))
        await fs.rm(path.join(mountPoint, entry), { recursive: true, force: true });
    });

    afterAll(async () => {
      execFileSync('umount', [mountPoint]);
      await fs.rmdir(mountPoint);
    });

    it('fails up front with DiskFullError when the master needs more than is free, leaving nothing', async () => {
      await makeSparseImage(inRepo('m.img'), 32 * MiB, [{ offset: 0, length: 12 * MiB }]);
      const clone = driver.clone(repo, 'm.img', 'clones/c.img', 'copy');
      await expect(clone).rejects.toBeInstanceOf(DiskFullError);
      const err = (await clone.catch((e) => e)) as DiskFullError;
      expect(err).toMatchObject({ code: 'disk_full', repoPath: mountPoint });
      expect(err.neededBytes).toBeGreaterThanOrEqual(12 * MiB);
      expect(err.freeBytes).toBeLessThan(err.neededBytes);
      expect(err.message).toMatch(/free space.*another repository/i);
      expect(await exists(inRepo('clones'))).toBe(false);
      expect(await findTemps(mountPoint)).toEqual([]);
    });

    it('fails with DiskFullError when space runs out midway, removing the partial copy', async () => {
      await makeSparseImage(inRepo('m.img'), 32 * MiB, [{ offset: 0, length: 6 * MiB }]);
      let filled = false;
      // Another writer takes all remaining space once the copy is under way.
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
      // Progress is first reported once the new file exists and before any data is written.
      const clone = driver.clone(repo, 'm.img', 'c.img', 'copy', { onProgress: fillDisk });
      await expect(clone).rejects.toMatchObject({ name: 'DiskFullError', code: 'disk_full' });
      expect(filled).toBe(true);
      expect(await exists(inRepo('c.img'))).toBe(false);
      expect(await findTemps(mountPoint)).toEqual([]);
    });

    it('refuses to copy in an image from another repository when its allocation is more than is free, leaving nothing', async () => {
      const other = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-other-repo-'));
      try {
        await makeSparseImage(path.join(other, 'c.img'), 32 * MiB, [{ offset: 0, length: 20 * MiB }]);
        await fs.mkdir(path.join(other, 'c.img.encompass/undo'), { recursive: true });
        await fs.writeFile(path.join(other, 'c.img.encompass/undo/item-0.json'), '{}');
        const src = { path: path.join(other, 'c.img'), sidecar: path.join(other, 'c.img.encompass') };
        const copy = driver.copyIn(repo, 'clones/c.img', src, { owner: 'op-move' });
        await expect(copy).rejects.toMatchObject({ name: 'DiskFullError', code: 'disk_full', repoPath: mountPoint });
        expect(await fs.readdir(mountPoint)).toEqual([]);
        expect(await exists(path.join(other, 'c.img'))).toBe(true);
      } finally {
        await fs.rm(other, { recursive: true, force: true });
      }
    });

    it('reports free space that shrinks as images are written', async () => {
      const before = await driver.freeBytes(repo);
      await makeSparseImage(inRepo('m.img'), 8 * MiB, [{ offset: 0, length: 4 * MiB }]);
      expect(before - (await driver.freeBytes(repo))).toBeGreaterThanOrEqual(4 * MiB);
    });
  });
});
