/**
 * Undoes applied items `from - 1` down to `to` in one pass over the image: the files their undo
 * records name are read in one run, each is put back byte for byte (or removed, when the item
 * created it) as the earliest of those records says, in one run, and read back in one more; then the
 * records are deleted. A write that fails is undone from what the rollback found, so the image still
 * matches the pointer `from`.
 *
 * Retrying after a crash is safe: a file already restored is left as it is, and an item without a
 * record has already been undone (records are deleted last, after every file is back).
 */
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { InvalidRangeError } from './errors';
import { recordedState, type UndoRecord, type UndoStore } from './undo-store';
import { changesTo, type FileState, readSnapshot, stateIn, writeChanges } from './volume-files';

export interface RollbackArgs {
  imagePath: string;
  fs: ImageFilesystem;
  volume: VolumeInfo;
  /** Items applied now (the current pointer). */
  from: number;
  /** The pointer to go back to: 0 <= to <= from. */
  to: number;
  undo: UndoStore;
  onProgress?: (done: number, total: number) => void;
}

export async function rollbackCustomization(a: RollbackArgs): Promise<{ applied: number }> {
  if (!Number.isInteger(a.from) || !Number.isInteger(a.to) || a.to < 0 || a.to > a.from) {
    throw new InvalidRangeError(`rollback needs integers 0 <= to (${a.to}) <= from (${a.from})`);
  }
  // Every record is read first, so an unreadable one stops the rollback before anything changes.
  const records: UndoRecord[] = [];
  for (let index = a.from - 1; index >= a.to; index--) {
    const record = await a.undo.get(index);
    if (record) records.push(record);
  }
  // Newest first, so each file ends up as the earliest record of the range has it.
  const wanted = new Map<string, FileState>();
  for (const record of records) wanted.set(record.path, recordedState(record));
  if (wanted.size > 0) {
    const found = await readSnapshot(a, wanted.keys());
    const indexOf = (path: string) => records.findLast((r) => r.path === path)!.index;
    const changes = changesTo(wanted, found);
    try {
      await writeChanges(a, changes, found, indexOf);
    } catch (failure) {
      await putBack(
        a,
        found,
        changes.map((c) => c.path),
        indexOf,
      );
      throw failure;
    }
  }
  for (const record of records) await a.undo.delete(record.index);
  if (a.from > a.to) a.onProgress?.(a.from - a.to, a.from - a.to);
  return { applied: a.to };
}

/**
 * Best effort: the files the failed write may have changed go back to what the rollback found. When
 * that fails too, the records are still all there, and a retry of the rollback finishes the job.
 */
async function putBack(
  a: RollbackArgs,
  found: Awaited<ReturnType<typeof readSnapshot>>,
  paths: string[],
  indexOf: (path: string) => number,
): Promise<void> {
  try {
    const wanted = new Map(paths.map((path) => [path, stateIn(found, path)]));
    const now = await readSnapshot(a, paths);
    await writeChanges(a, changesTo(wanted, now, found), now, indexOf);
  } catch {
    // The failure the caller throws is the one to report.
  }
}
