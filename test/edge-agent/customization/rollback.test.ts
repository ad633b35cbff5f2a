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

  it('restores every file in one pass: one read, one write (with its read-back)', async () => {
    await apply(0, 3);
    const [reads, writes] = [clone.recording.reads, clone.recording.writes];
    await rollback(3, 0);
    expect([clone.recording.reads - reads, clone.recording.writes - writes]).toEqual([1, 1]);
  });

  it('finishes when retried after the agent died part-way through its write, without redoing what was restored', async () => {
    await apply(0, 3);
    // The first change of the pass (removing /etc/motd, which item 2 created) is made, then the agent dies.
    clone.recording.dieAtChange(2);
    await expect(rollback(3, 0)).rejects.toThrow('simulated crash');
    clone.recording.revive();
    expect((await clone.files(['/etc/motd']))['/etc/motd']).toBeNull();
    expect(await clone.undoRecords(), 'records go last').toEqual(['item-0.json', 'item-1.json', 'item-2.json']);
    const changesBefore = clone.recording.changes;
    expect(await rollback(3, 0)).toEqual({ applied: 0 });
    expect(await clone.files(PATHS)).toEqual(seeded);
    expect(clone.recording.changes - changesBefore, 'only /etc/hostname and /etc/hosts still needed restoring').toBe(2);
    expect(await clone.undoRecords()).toEqual([]);
  });

  it('puts back what its failed write changed, so the image still matches the pointer, and keeps every record', async () => {
    await apply(0, 3);
    const applied = await clone.files(PATHS);
    clone.recording.crashAtChange(2);
    await expect(rollback(3, 0)).rejects.toThrow('simulated crash');
    expect(await clone.files(PATHS)).toEqual(applied);
    expect(await clone.undoRecords()).toEqual(['item-0.json', 'item-1.json', 'item-2.json']);
    expect(await rollback(3, 0)).toEqual({ applied: 0 });
    expect(await clone.files(PATHS)).toEqual(seeded);
  });

  it('changes nothing in the image when retried after every file was restored, and drops the records left', async () => {
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
    expect(await clone.files(PATHS)).toEqual(seeded);
    const image = await clone.imageSha256();
    const changes = clone.recording.changes;
    await rollback(2, 0);
    expect(clone.recording.changes - changes).toBe(0);
    expect(await clone.imageSha256()).toBe(image);
    expect(await clone.undoRecords()).toEqual([]);
  });

  it('refuses a range that goes forward', async () => {
    await expect(rollback(1, 2)).rejects.toMatchObject({ code: 'invalid_range' });
  });
});
