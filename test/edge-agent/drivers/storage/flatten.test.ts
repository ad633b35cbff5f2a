import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorageDriver } from '../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../edge-agent/drivers/storage/interface';
import {
  allocatedBytes,
  findTemps,
  MiB,
  makeSparseImage,
  SPARSE_64M_REGIONS,
  sameDiskContent,
  sha256OfFile,
  writeIntoDisk,
} from './images';

describe('flattening an overlay clone', () => {
  let repo: RepositoryRef;
  const driver = new FileStorageDriver();
  const inRepo = (rel: string) => path.join(repo.path, rel);

  beforeEach(async () => {
    repo = { id: 'f', kind: 'file', path: await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-flatten-')) };
    await makeSparseImage(inRepo('masters/m.img'), 64 * MiB, SPARSE_64M_REGIONS);
    await driver.clone(repo, 'masters/m.img', 'clones/c.qcow2', 'overlay');
  });
  afterEach(async () => fs.rm(repo.path, { recursive: true, force: true }));

  it("gives a standalone sparse raw image with the master's bytes, progress up to the total", async () => {
    const progress: Array<[number, number]> = [];
    const info = await driver.flatten(repo, 'clones/c.qcow2', 'masters/m2.img', {
      onProgress: (d, t) => progress.push([d, t]),
    });
    const masterAllocated = await allocatedBytes(inRepo('masters/m.img'));
    expect(info).toMatchObject({
      format: 'raw',
      sizeBytes: 64 * MiB,
      sha256: await sha256OfFile(inRepo('masters/m.img')),
    });
    expect(await sha256OfFile(inRepo('masters/m2.img'))).toBe(info.sha256);
    expect(info.allocatedBytes).toBeLessThanOrEqual(masterAllocated * 1.05);
    const qemuInfo = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', inRepo('masters/m2.img')], { encoding: 'utf8' }),
    );
    expect(qemuInfo.format).toBe('raw');
    expect(qemuInfo['backing-filename']).toBeUndefined();
    expect(progress.at(-1)).toEqual([128 * MiB, 128 * MiB]);
    expect(await findTemps(repo.path)).toEqual([]);
  });

  it('keeps what the machine wrote into the overlay', async () => {
    writeIntoDisk(inRepo('clones/c.qcow2'), 'qcow2', 3 * MiB, 2 * MiB);
    const info = await driver.flatten(repo, 'clones/c.qcow2', 'captured.img');
    expect(sameDiskContent(inRepo('captured.img'), inRepo('clones/c.qcow2'))).toBe(true);
    expect(info.sha256).not.toBe(await sha256OfFile(inRepo('masters/m.img')));
  });

  it('refuses to overwrite an existing image', async () => {
    await expect(driver.flatten(repo, 'clones/c.qcow2', 'masters/m.img')).rejects.toMatchObject({
      code: 'image_exists',
    });
    expect(await findTemps(repo.path)).toEqual([]);
  });
});
