import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../../../edge-agent/drivers/storage/hash';
import { MiB, makeSparseImage, SPARSE_64M_REGIONS, sha256OfFile } from './images';

describe('hashing an image on a worker thread', () => {
  let dir: string;
  let img: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-hash-'));
    img = path.join(dir, 'm.img');
    await makeSparseImage(img, 64 * MiB, SPARSE_64M_REGIONS);
  });
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  it('gives the sha256 of the file, with progress up to its size', async () => {
    const progress: number[] = [];
    expect(await hashFile(img, 64 * MiB, { onProgress: (d) => progress.push(d) })).toBe(await sha256OfFile(img));
    expect(progress.at(-1)).toBe(64 * MiB);
  });

  it('calls a file shorter than its expected size corrupt', async () => {
    await expect(hashFile(img, 65 * MiB)).rejects.toMatchObject({ name: 'CorruptImageError', code: 'corrupt_image' });
  });

  it('reports a missing file with its errno code', async () => {
    await expect(hashFile(path.join(dir, 'none.img'), MiB)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops when aborted', async () => {
    const ctl = new AbortController();
    const hashing = hashFile(img, 64 * MiB, { signal: ctl.signal, onProgress: (d) => d > 0 && ctl.abort() });
    await expect(hashing).rejects.toMatchObject({ name: 'OperationAbortedError', code: 'aborted' });
  });
});
