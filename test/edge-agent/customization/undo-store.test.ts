import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileUndoStore, type UndoRecord } from '../../../edge-agent/customization/undo-store';
import { tempDir } from '../drivers/imagefs/images';

const record: UndoRecord = {
  index: 3,
  path: '/etc/hostname',
  existed: true,
  mode: 0o644,
  contentBase64: 'c2VlZAo=',
  sha256After: 'ab'.repeat(32),
};

describe('FileUndoStore', () => {
  let dir: string;
  let store: FileUndoStore;
  beforeEach(async () => {
    dir = await tempDir('encompass-undo-');
    store = new FileUndoStore(join(dir, 'nested', 'undo'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('has no record for an index never stored, even before its directory exists', async () => {
    expect(await store.get(0)).toBeNull();
  });

  it('stores one JSON file per index, replacing it whole, and leaves no temp files', async () => {
    await store.put(record);
    await store.put({ ...record, existed: false, mode: null, contentBase64: null });
    expect(await store.get(3)).toEqual({ ...record, existed: false, mode: null, contentBase64: null });
    expect(await readdir(store.dir)).toEqual(['item-3.json']);
  });

  it('deletes a record, and deleting a missing one is not an error', async () => {
    await store.put(record);
    await store.delete(3);
    await store.delete(3);
    expect(await store.get(3)).toBeNull();
  });

  it('refuses a damaged record instead of undoing from it', async () => {
    await store.put(record);
    await writeFile(join(store.dir, 'item-3.json'), '{"index": 3, "path": ');
    await expect(store.get(3)).rejects.toMatchObject({ code: 'undo_record_corrupt' });
    await writeFile(join(store.dir, 'item-3.json'), JSON.stringify({ ...record, index: 4 }));
    await expect(store.get(3)).rejects.toMatchObject({ code: 'undo_record_corrupt' });
  });
});
