/** Discovering the images of a file repository: sizes, formats, filesystems and lazy sha256. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../edge-agent/drivers/storage/interface';
import { run } from '../drivers/imagefs/images';
import { MiB, makeQcow2, makeSparseImage, sha256OfFile } from '../drivers/storage/images';
import { type DiscoverHarness, discoverHarness } from './context';

describe('discovering storage seeds', () => {
  let h: DiscoverHarness;
  let repo: RepositoryRef;
  const inRepo = (rel: string) => path.join(repo.path, rel);
  const seed = () => ({ kind: 'storage', address: repo.id, repository: repo });
  const sha: Record<string, string> = {};

  beforeAll(async () => {
    h = await discoverHarness({});
    repo = { id: 'nas-1', kind: 'file', path: path.join(h.dir, 'repo') };
    await makeSparseImage(inRepo('masters/base.img'), 4 * MiB, [{ offset: MiB, length: 64 * 1024 }]);
    await run('mkfs.ext4', ['-q', '-F', inRepo('masters/fs.img'), '8M']);
    await fs.mkdir(inRepo('clones'), { recursive: true });
    makeQcow2(inRepo('clones/vm.qcow2'), '16M');
    for (const rel of ['masters/base.img', 'masters/fs.img', 'clones/vm.qcow2'])
      sha[rel] = await sha256OfFile(inRepo(rel));
  });
  afterAll(async () => h?.cleanup());

  it('reports every image with its size, allocation, format, filesystem and sha256', async () => {
    const out = await h.run({ seeds: [seed()] });
    const st = await fs.stat(inRepo('masters/fs.img'));
    expect(out.volumes).toEqual([
      {
        seed: 0,
        repository: 'nas-1',
        path: 'clones/vm.qcow2',
        sizeBytes: (await fs.stat(inRepo('clones/vm.qcow2'))).size,
        allocatedBytes: expect.any(Number),
        format: 'qcow2',
        modifiedAt: expect.any(String),
        sha256: sha['clones/vm.qcow2'],
      },
      {
        seed: 0,
        repository: 'nas-1',
        path: 'masters/base.img',
        sizeBytes: 4 * MiB,
        allocatedBytes: expect.any(Number),
        format: 'raw',
        modifiedAt: expect.any(String),
        sha256: sha['masters/base.img'],
      },
      {
        seed: 0,
        repository: 'nas-1',
        path: 'masters/fs.img',
        sizeBytes: 8 * MiB,
        allocatedBytes: st.blocks * 512,
        format: 'raw',
        modifiedAt: st.mtime.toISOString(),
        filesystem: 'ext4',
        sha256: sha['masters/fs.img'],
      },
    ]);
    // Sparse: the listing says how much of the 4 MiB is really there.
    expect(out.volumes[1]!.allocatedBytes).toBeLessThan(4 * MiB);
    expect(out.seeds).toEqual([
      { seed: 0, kind: 'storage', address: 'nas-1', seconds: expect.any(Number), machines: 0, volumes: 3 },
    ]);
    console.log(`storage seed seconds (three images hashed): ${out.seeds[0]!.seconds}`);
  });

  it('returns a known digest as given while size and modification time are unchanged, without reading the image', async () => {
    const base = await fs.stat(inRepo('masters/base.img'));
    const fsImg = await fs.stat(inRepo('masters/fs.img'));
    // Not base.img's real digest: only an image left unread could come back with it.
    const given = 'ab'.repeat(32);
    const out = await h.run({
      seeds: [seed()],
      digests: [
        {
          repository: 'nas-1',
          path: 'masters/base.img',
          sizeBytes: base.size,
          modifiedAt: base.mtime.toISOString(),
          sha256: given,
        },
        // Taken before the image last changed: hashed again.
        {
          repository: 'nas-1',
          path: 'masters/fs.img',
          sizeBytes: fsImg.size,
          modifiedAt: new Date(fsImg.mtimeMs - 60_000).toISOString(),
          sha256: 'cd'.repeat(32),
        },
        // Another repository's image at the same path is another image.
        {
          repository: 'nas-2',
          path: 'clones/vm.qcow2',
          sizeBytes: (await fs.stat(inRepo('clones/vm.qcow2'))).size,
          modifiedAt: (await fs.stat(inRepo('clones/vm.qcow2'))).mtime.toISOString(),
          sha256: 'ef'.repeat(32),
        },
      ],
    });
    expect(Object.fromEntries(out.volumes.map((v) => [v.path, v.sha256]))).toEqual({
      'masters/base.img': given,
      'masters/fs.img': sha['masters/fs.img'],
      'clones/vm.qcow2': sha['clones/vm.qcow2'],
    });
  });

  it('leaves sha256 out with hash false, except where a digest is known', async () => {
    const base = await fs.stat(inRepo('masters/base.img'));
    const given = '12'.repeat(32);
    const out = await h.run({
      seeds: [seed()],
      hash: false,
      digests: [
        {
          repository: 'nas-1',
          path: 'masters/base.img',
          sizeBytes: base.size,
          modifiedAt: base.mtime.toISOString(),
          sha256: given,
        },
      ],
    });
    expect(out.volumes.map((v) => [v.path, v.sha256, v.format])).toEqual([
      ['clones/vm.qcow2', undefined, 'qcow2'],
      ['masters/base.img', given, 'raw'],
      ['masters/fs.img', undefined, 'raw'],
    ]);
  });

  it('reports a repository it cannot reach, or a seed without its repository, as that seed’s error', async () => {
    const out = await h.run({
      seeds: [
        { kind: 'storage', address: 'gone', repository: { ...repo, id: 'gone', path: path.join(h.dir, 'none') } },
        { kind: 'storage', address: 'nas-9' },
        seed(),
      ],
      hash: false,
    });
    expect(out.seeds.map((s) => [s.volumes, s.error?.code])).toEqual([
      [0, 'repository_unavailable'],
      [0, 'seed_repository_missing'],
      [3, undefined],
    ]);
  });
});
