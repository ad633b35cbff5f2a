import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyCustomization, rollbackCustomization } from '../../../edge-agent/customization/apply';
import type { UndoRecord, UndoStore } from '../../../edge-agent/customization/undo-store';
import { type Clone, ITEMS, makeClone, type RecordingFilesystem, VARIABLES } from './fixtures';

const PATHS = ['/etc/hostname', '/etc/hosts', '/etc/motd'];

describe.each(['bare', 'gpt'] as const)('rollbackCustomization on a %s ext4 image', (layout) => {
  let clone: Clone & { recording: RecordingFilesystem };
  let seeded: Awaited<ReturnType<Clone['files']>>;
  const apply = (from: number, to: number) =>
    applyCustomization({ ...clone, items: ITEMS, variables: VARIABLES, from, to });
  const rollback = (from: number, to: number, undo: UndoStore = clone.undo) =>
    rollbackCustomization({ ...clone, undo, from, to });

  beforeEach(async () => {
    clone = await makeClone(layout);
    seeded = await clone.files(PATHS);
  });
  afterEach(async () => clone.cleanup());

  it('restores every file byte for byte with its mode, removes the file an item created, and drops the records', async () => {
    await apply(0, 3);
    expect(await clone.files(PATHS)).not.toEqual(seeded);
    expect(await rollback(3, 0)).toEqual({ applied: 0 });
    expect(await clone.files(PATHS)).toEqual(seeded);
    expect(seeded['/etc/motd']).toBeNull();
    expect(await clone.undoRecords()).toEqual([]);
  });

  it('rolls back part of the way: 3→1 keeps item 0 applied', async () => {
    const applied = await apply(0, 3);
    await rollback(3, 1);
    const now = await clone.files(PATHS);
    expect(now['/etc/hostname']?.sha256).toBe(applied.changes[0]?.sha256After);
    expect(now['/etc/hosts']).toEqual(seeded['/etc/hosts']);
    expect(now['/etc/motd']).toBeNull();
    expect(await clone.undoRecords()).toEqual(['item-0.json']);
  });

  it('applies again after a rollback, to the same result as the first time', async () => {
    const first = await apply(0, 3);
    const afterFirst = await clone.files(PATHS);
    await rollback(3, 0);
    expect(await apply(0, 3)).toEqual(first);
    expect(await clone.files(PATHS)).toEqual(afterFirst);
  });

  it('finishes when retried after failing midway, without redoing what was restored', async () => {
    await apply(0, 3);
    const changesBefore = clone.recording.changes;
    // Undoing item 2 removes /etc/motd; restoring /etc/hosts for item 1 then fails.
    clone.recording.crashAtChange(2);
    await expect(rollback(3, 0)).rejects.toThrow('simulated crash');
    expect(await clone.undoRecords()).toEqual(['item-0.json', 'item-1.json']);
    expect(await rollback(3, 0)).toEqual({ applied: 0 });
    expect(await clone.files(PATHS)).toEqual(seeded);
    expect(clone.recording.changes - changesBefore).toBe(3);
  });

  it('only drops the record of a file restored just before a crash', async () => {
    await apply(0, 2);
    const store = clone.undo;
    let failDelete = true;
    const crashingOnDelete: UndoStore = {
      get: (index) => store.get(index),
      put: (record: UndoRecord) => store.put(record),
      async delete(index) {
        if (failDelete) {
          failDelete = false;
          throw new Error('simulated crash after restoring');
        }
        return store.delete(index);
      },
    };
    await expect(rollback(2, 0, crashingOnDelete)).rejects.toThrow('simulated crash');
    expect(await clone.files(['/etc/hosts'])).toEqual({ '/etc/hosts': seeded['/etc/hosts'] });
    const changes = clone.recording.changes;
    await rollback(2, 0);
    expect(clone.recording.changes - changes, 'only /etc/hostname still needed restoring').toBe(1);
    expect(await clone.files(PATHS)).toEqual(seeded);
    expect(await clone.undoRecords()).toEqual([]);
  });

  it('refuses a range that goes forward', async () => {
    await expect(rollback(1, 2)).rejects.toMatchObject({ code: 'invalid_range' });
  });
});
