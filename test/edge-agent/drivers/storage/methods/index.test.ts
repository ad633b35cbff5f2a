import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import { findTemps, MiB, makeSparseImage, SPARSE_64M_REGIONS, sameDiskContent } from '../images';
import { type LoopFs, mountLoopFs, mountXfsReflink, unmountLoopFs } from '../loop-fs';

/**
 * Each case: a filesystem, the methods a file repository on it offers (fastest first), and what auto picks:
 * the fastest that makes a standalone raw image, so never overlay.
 */
const CASES = [
  {
    fs: 'XFS with reflink',
    mount: () => mountXfsReflink(),
    methods: ['reflink', 'overlay', 'sparse', 'copy'],
    auto: 'reflink',
  },
  { fs: 'ext4', mount: () => mountLoopFs('ext4', '128M'), methods: ['overlay', 'sparse', 'copy'], auto: 'sparse' },
];

describe.each(CASES)('a file repository on $fs', ({ mount, methods, auto }) => {
  let loop: LoopFs | undefined;
  let repo: RepositoryRef;
  const driver = new FileStorageDriver();

  beforeAll(async () => {
    loop = mount();
    repo = { id: 'r', kind: 'file', path: loop.mountPoint };
    await makeSparseImage(path.join(repo.path, 'masters/m.img'), 64 * MiB, SPARSE_64M_REGIONS);
  });
  afterAll(() => {
    if (loop) unmountLoopFs(loop);
  });

  it(`offers ${methods.join(', ')}, fastest first, and leaves no probe file behind`, async () => {
    expect(await driver.methods(repo)).toEqual(methods);
    expect(await driver.methods(repo)).toEqual(methods);
    expect(await findTemps(repo.path)).toEqual([]);
  });

  it(`clones with ${auto} when asked for auto`, async () => {
    const out = await driver.clone(repo, 'masters/m.img', 'clones/auto.img', 'auto');
    expect(out.method).toBe(auto);
    expect(out.format).toBe('raw');
    expect(sameDiskContent(path.join(repo.path, 'clones/auto.img'), path.join(repo.path, 'masters/m.img'))).toBe(true);
  });
});

describe('a file repository on tmpfs', () => {
  let mountPoint: string;
  const driver = new FileStorageDriver();

  beforeAll(async () => {
    mountPoint = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    execFileSync('umount', [mountPoint]);
    await fs.rmdir(mountPoint);
  });

  it('offers no reflink, since tmpfs cannot share extents', async () => {
    expect(await driver.methods({ id: 't', kind: 'file', path: mountPoint })).toEqual(['overlay', 'sparse', 'copy']);
  });
});
