/**
 * Undoes applied items `from - 1` down to `to`, restoring each file byte for byte (or removing it when
 * the item created it) from its undo record, then deleting the record.
 *
 * Retrying after a crash is safe: a file already restored is left as is and only its record is
 * dropped; an item without a record has already been undone (records are deleted last).
 */
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { InvalidRangeError } from './errors';
import type { UndoRecord, UndoStore } from './undo-store';
import { DEFAULT_MODE, VolumeFiles } from './volume-files';

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
  // Read every record first, so an unreadable one stops the rollback before anything changes.
  const records: (UndoRecord | null)[] = [];
  for (let index = a.from - 1; index >= a.to; index--) records.push(await a.undo.get(index));
  const files = new VolumeFiles(a);
  let finished = 0;
  for (const record of records) {
    if (record) {
      await restore(files, record);
      await a.undo.delete(record.index);
    }
    a.onProgress?.(++finished, records.length);
  }
  return { applied: a.to };
}

async function restore(files: VolumeFiles, record: UndoRecord): Promise<void> {
  const current = await files.read(record.path);
  if (record.contentBase64 === null) {
    if (current.content !== null) await files.remove(record.index, record.path);
    return;
  }
  const previous = Buffer.from(record.contentBase64, 'base64');
  const mode = record.mode ?? DEFAULT_MODE;
  if (current.content?.equals(previous) && current.mode === mode) return;
  await files.write(record.index, record.path, previous, mode);
}
