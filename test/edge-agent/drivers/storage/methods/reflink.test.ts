import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import { exists, findTemps, MiB, makeSparseImage, sha256OfFile } from '../images';
import { type LoopFs, mountLoopFs, unmountLoopFs, usedBytes, useXfsRepository } from '../loop-fs';

/** 64 MiB with 48 MiB of data, so sharing extents or not shows plainly in the filesystem's usage. */
const MOSTLY_DATA = [{ offset: 0, length: 48 * MiB }];

describe('reflink clones on XFS', () => {
  const at = useXfsRepository(64 * MiB, MOSTLY_DATA);
  const driver = new FileStorageDriver();
  const inRepo = at.inRepo;

  it("shares the master's extents: the filesystem barely grows while the clone shows every byte", async () => {
    const before = usedBytes(at.repo.path);
    const out = await driver.clone(at.repo, 'masters/m.img', 'clones/c.img', 'reflink');
    const grown = usedBytes(at.repo.path) - before;
    expect(grown).toBeLessThan(MiB);
    expect(out).toMatchObject({
      method: 'reflink',
      format: 'raw',
      sizeBytes: 64 * MiB,
      sha256: await sha256OfFile(inRepo('masters/m.img')),
    });
    expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(out.sha256);
    expect(await findTemps(at.repo.path)).toEqual([]);
  });

  it("records the master's known sha256 instead of reading the image", async () => {
    const known = 'ab'.repeat(32);
    const progress: Array<[number, number]> = [];
    const out = await driver.clone(at.repo, 'masters/m.img', 'c.img', 'reflink', {
      sourceSha256: known,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(out.sha256).toBe(known);
    expect(progress.at(-1)).toEqual([64 * MiB, 64 * MiB]);
  });

  it('gives a writable clone of a read-only master, whose writes leave the master as it was', async () => {
    const masterSha = await sha256OfFile(inRepo('masters/m.img'));
    await driver.clone(at.repo, 'masters/m.img', 'c.img', 'reflink');
    expect((await fs.stat(inRepo('c.img'))).mode & 0o200).toBe(0o200);
    const fh = await fs.open(inRepo('c.img'), 'r+');
    await fh.write(Buffer.alloc(MiB, 0x55), 0, MiB, 0);
    await fh.close();
    expect(await sha256OfFile(inRepo('masters/m.img'))).toBe(masterSha);
    expect(await sha256OfFile(inRepo('c.img'))).not.toBe(masterSha);
  });
});

describe('reflink on a filesystem without it (ext4)', () => {
  let loop: LoopFs | undefined;
  let repo: RepositoryRef;
  const driver = new FileStorageDriver();

  beforeAll(async () => {
    loop = mountLoopFs('ext4', '128M');
    repo = { id: 'e', kind: 'file', path: loop.mountPoint };
    await makeSparseImage(path.join(repo.path, 'm.img'), 16 * MiB, [{ offset: 0, length: MiB }]);
  });
  afterAll(() => {
    if (loop) unmountLoopFs(loop);
  });

  it('is refused with UnsupportedMethodError naming the methods that work, and creates nothing', async () => {
    const clone = driver.clone(repo, 'm.img', 'c.img', 'reflink');
    await expect(clone).rejects.toMatchObject({
      name: 'UnsupportedMethodError',
      code: 'unsupported_method',
      supported: ['overlay', 'sparse', 'copy'],
    });
    await expect(clone).rejects.toThrow(/Use one of: overlay, sparse, copy/);
    expect(await exists(path.join(repo.path, 'c.img'))).toBe(false);
  });
});
