/** `copy` and `sparse` make full copies: their own extents, the master's bytes and holes, flushed under a temp name. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataRanges, parseFilefrag } from '../../../../../edge-agent/drivers/storage/extents';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import { allocatedBytes, findTemps, MiB, makeSparseImage, SPARSE_64M_REGIONS, sha256OfFile } from '../images';
import { useXfsRepository } from '../loop-fs';

/** The flags column of every extent line of `filefrag -v`. */
function extentFlags(file: string): string[] {
  const out = execFileSync('filefrag', ['-v', file], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => /^\s*\d+:/.test(line))
    .map((line) => line.split(':').at(-1)!.trim());
}

/** Two 1 MiB data regions 4 MiB apart. */
const TWO_REGIONS = [
  { offset: 0, length: MiB },
  { offset: 5 * MiB, length: MiB },
];

describe.each(['copy', 'sparse'])('%s clones on XFS with reflink', (method) => {
  const at = useXfsRepository(64 * MiB, SPARSE_64M_REGIONS);
  const driver = new FileStorageDriver();
  const inRepo = at.inRepo;

  it('share no extent with the master, though the filesystem could share them, and show its bytes and holes', async () => {
    expect(await driver.methods(at.repo)).toContain('reflink');
    const out = await driver.clone(at.repo, 'masters/m.img', 'clones/c.img', method);
    const master = await sha256OfFile(inRepo('masters/m.img'));
    expect(out).toMatchObject({ method, sizeBytes: 64 * MiB, sha256: master });
    expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(master);
    const flags = extentFlags(inRepo('clones/c.img'));
    expect(flags.length).toBeGreaterThan(0);
    expect(flags.filter((f) => f.includes('shared'))).toEqual([]);
    // The check can see sharing: a reflink clone's extents (and now the master's) are marked shared.
    await driver.clone(at.repo, 'masters/m.img', 'clones/r.img', 'reflink');
    expect(extentFlags(inRepo('clones/r.img')).some((f) => f.includes('shared'))).toBe(true);
    expect(extentFlags(inRepo('clones/c.img')).filter((f) => f.includes('shared'))).toEqual([]);
    // The master has no zero blocks: both methods allocate what it does (within the filesystem's rounding).
    const masterAllocated = await allocatedBytes(inRepo('masters/m.img'));
    expect(Math.abs((await allocatedBytes(inRepo('clones/c.img'))) - masterAllocated)).toBeLessThanOrEqual(
      masterAllocated * 0.05,
    );
    expect(await findTemps(at.repo.path)).toEqual([]);
  });

  it("record the master's known sha256 instead of hashing it again, with progress up to the total", async () => {
    const known = 'cd'.repeat(32);
    const progress: number[] = [];
    const out = await driver.clone(at.repo, 'masters/m.img', 'c.img', method, {
      sourceSha256: known,
      onProgress: (done) => progress.push(done),
    });
    expect(out.sha256).toBe(known);
    expect(await sha256OfFile(inRepo('c.img'))).toBe(await sha256OfFile(inRepo('masters/m.img')));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(64 * MiB);
  });

  it(
    method === 'sparse'
      ? 'turn zero blocks inside the data into holes'
      : 'keep zero blocks allocated, as the master has them',
    async () => {
      await makeSparseImage(inRepo('masters/z.img'), 8 * MiB, TWO_REGIONS);
      const fh = await fs.open(inRepo('masters/z.img'), 'r+');
      await fh.write(Buffer.alloc(MiB), 0, MiB, 2 * MiB);
      await fh.sync();
      await fh.close();
      expect(await allocatedBytes(inRepo('masters/z.img'))).toBeGreaterThanOrEqual(3 * MiB);
      await driver.clone(at.repo, 'masters/z.img', 'z.img', method);
      const allocated = await allocatedBytes(inRepo('z.img'));
      if (method === 'sparse') expect(allocated).toBeLessThanOrEqual(2 * MiB + 64 * 1024);
      else expect(allocated).toBeGreaterThanOrEqual(3 * MiB);
      expect(await sha256OfFile(inRepo('z.img'))).toBe(await sha256OfFile(inRepo('masters/z.img')));
    },
  );
});

describe('the data extents of a file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-extents-'));
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  it('cover every data region, in order, and no more than the regions and their close neighbours', async () => {
    const file = path.join(dir, 'm.img');
    await makeSparseImage(file, 64 * MiB, TWO_REGIONS);
    const ranges = await dataRanges(file, 64 * MiB);
    expect(ranges).toBeDefined();
    // 4 MiB apart: more than the merging gap, so two ranges, each covering its region.
    expect(ranges).toHaveLength(2);
    for (const [i, region] of TWO_REGIONS.entries()) {
      expect(ranges![i]!.offset).toBeLessThanOrEqual(region.offset);
      expect(ranges![i]!.offset + ranges![i]!.length).toBeGreaterThanOrEqual(region.offset + region.length);
    }
    expect(ranges!.reduce((n, r) => n + r.length, 0)).toBeLessThan(8 * MiB);
  });

  it('are unknown when filefrag cannot read the map, so the whole file is read instead', async () => {
    expect(await dataRanges(path.join(dir, 'missing.img'), MiB)).toBeUndefined();
    expect(parseFilefrag('Filesystem type is: 1021994\nFIEMAP not supported\n', MiB)).toBeUndefined();
  });

  it('merge extents closer than 1 MiB and clip the last one to the file size', () => {
    const text = [
      'File size of m.img is 10000 (3 blocks of 4096 bytes)',
      ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
      '   0:        0..       0:       100..       100:      1:',
      '   1:        2..       2:       300..       300:      1:        101: last,eof',
    ].join('\n');
    expect(parseFilefrag(text, 10000)).toEqual([{ offset: 0, length: 10000 }]);
  });
});
