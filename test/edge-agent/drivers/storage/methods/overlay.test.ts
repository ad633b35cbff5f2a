import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import {
  findTemps,
  MiB,
  makeSparseImage,
  SPARSE_64M_REGIONS,
  sameDiskContent,
  sha256OfFile,
  writeIntoDisk,
} from '../images';

describe('overlay clones', () => {
  let repo: RepositoryRef;
  const driver = new FileStorageDriver();
  const inRepo = (rel: string) => path.join(repo.path, rel);

  beforeEach(async () => {
    repo = { id: 'o', kind: 'file', path: await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-overlay-')) };
    await makeSparseImage(inRepo('masters/m.img'), 64 * MiB, SPARSE_64M_REGIONS);
    await fs.chmod(inRepo('masters/m.img'), 0o444);
  });
  afterEach(async () => fs.rm(repo.path, { recursive: true, force: true }));

  it('are small qcow2 files reading through to the master by its absolute path, showing its bytes', async () => {
    const out = await driver.clone(repo, 'masters/m.img', 'clones/c.qcow2', 'overlay');
    expect(out).toMatchObject({
      method: 'overlay',
      format: 'qcow2',
      backing: 'masters/m.img',
      sha256: await sha256OfFile(inRepo('masters/m.img')),
    });
    expect(out.sizeBytes).toBeLessThan(MiB);
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', inRepo('clones/c.qcow2')], { encoding: 'utf8' }),
    );
    expect(info).toMatchObject({
      'backing-filename': inRepo('masters/m.img'),
      'backing-filename-format': 'raw',
      'virtual-size': 64 * MiB,
    });
    expect(sameDiskContent(inRepo('clones/c.qcow2'), inRepo('masters/m.img'))).toBe(true);
    expect(await findTemps(repo.path)).toEqual([]);
  });

  it("record the master's known sha256 instead of reading the master", async () => {
    const known = 'cd'.repeat(32);
    expect((await driver.clone(repo, 'masters/m.img', 'c.qcow2', 'overlay', { sourceSha256: known })).sha256).toBe(
      known,
    );
  });

  it("take the machine's writes without touching the master", async () => {
    const master = await fs.stat(inRepo('masters/m.img'));
    const masterSha = await sha256OfFile(inRepo('masters/m.img'));
    await driver.clone(repo, 'masters/m.img', 'c.qcow2', 'overlay');
    writeIntoDisk(inRepo('c.qcow2'), 'qcow2', 0, 4 * MiB);
    expect(await sha256OfFile(inRepo('masters/m.img'))).toBe(masterSha);
    expect((await fs.stat(inRepo('masters/m.img'))).mtimeMs).toBe(master.mtimeMs);
    expect(sameDiskContent(inRepo('c.qcow2'), inRepo('masters/m.img'))).toBe(false);
  });

  it('are inspected as qcow2 files: size and sha256 of the qcow2 file itself', async () => {
    await driver.clone(repo, 'masters/m.img', 'c.qcow2', 'overlay');
    const info = await driver.inspect(repo, 'c.qcow2');
    expect(info).toMatchObject({
      format: 'qcow2',
      sha256: await sha256OfFile(inRepo('c.qcow2')),
      sizeBytes: (await fs.stat(inRepo('c.qcow2'))).size,
    });
  });
});
