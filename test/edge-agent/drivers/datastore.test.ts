/** How a file repository's clone is named to vSphere: the repository's settings.datastore. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datastorePath } from '../../../edge-agent/drivers/disk';
import { FileStorageDriver } from '../../../edge-agent/drivers/storage/file';

describe('datastore paths of a file repository', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-datastore-'));
    await fs.mkdir(path.join(dir, 'clones'));
    await fs.writeFile(path.join(dir, 'clones', 'web-1.img'), Buffer.alloc(1 << 16));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('puts a repository file under the datastore folder its settings name', () => {
    expect(datastorePath('[nfs-clones] encompass', 'clones/web-1.img')).toBe('[nfs-clones] encompass/clones/web-1.img');
    expect(datastorePath('[nfs-clones] encompass/', '/clones/web-1.img')).toBe(
      '[nfs-clones] encompass/clones/web-1.img',
    );
    expect(datastorePath('[nfs-clones]', 'web-1.img')).toBe('[nfs-clones] web-1.img');
  });

  it('names none for a repository without a datastore, or with a setting that is not `[ds] dir`', () => {
    expect(datastorePath(undefined, 'web-1.img')).toBeUndefined();
    expect(datastorePath('nfs-clones/encompass', 'web-1.img')).toBeUndefined();
  });

  it('exports a clone with its datastore path only when the repository names its datastore', async () => {
    const driver = new FileStorageDriver();
    const plain = await driver.export({ id: 'r1', kind: 'file', path: dir }, 'clones/web-1.img');
    expect(plain).toEqual({ kind: 'file', path: path.join(dir, 'clones', 'web-1.img'), format: 'raw' });
    const onDatastore = await driver.export(
      { id: 'r1', kind: 'file', path: dir, settings: { datastore: '[nfs-clones] encompass' } },
      'clones/web-1.img',
    );
    expect(onDatastore).toEqual({ ...plain, datastore: '[nfs-clones] encompass/clones/web-1.img' });
  });
});
