/**
 * Undo records: what a file was before item `index` changed it. One record per applied item; it is
 * written before the change and deleted only after the change has been undone.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from '../state-file';
import { InvalidRangeError, UndoRecordCorruptError } from './errors';
import type { FileState } from './volume-files';

export interface UndoRecord {
  index: number;
  path: string;
  /** Whether the file existed before the item; when false, undoing removes it. */
  existed: boolean;
  /** Permission bits before, null when the file did not exist. */
  mode: number | null;
  /** Content before, null when the file did not exist. */
  contentBase64: string | null;
  /** sha256 (hex) of the content the item wrote: tells whether the item is in. */
  sha256After: string;
}

/** The file as it was before the record's item. */
export function recordedState(record: UndoRecord): FileState {
  return record.contentBase64 === null
    ? { content: null, mode: null }
    : { content: Buffer.from(record.contentBase64, 'base64'), mode: record.mode };
}

export function sameRecord(a: UndoRecord, b: UndoRecord): boolean {
  return (
    a.index === b.index &&
    a.path === b.path &&
    a.existed === b.existed &&
    a.mode === b.mode &&
    a.contentBase64 === b.contentBase64 &&
    a.sha256After === b.sha256After
  );
}

export interface UndoStore {
  get(index: number): Promise<UndoRecord | null>;
  put(record: UndoRecord): Promise<void>;
  delete(index: number): Promise<void>;
}

/** One JSON file per item in `dir`, written and read by the agent's state writer (replaced atomically). */
export class FileUndoStore implements UndoStore {
  constructor(readonly dir: string) {}

  async get(index: number): Promise<UndoRecord | null> {
    const file = this.file(index);
    let record: unknown;
    try {
      record = await readStateFile<unknown>(file);
    } catch (error) {
      if (error instanceof SyntaxError)
        throw new UndoRecordCorruptError(file, 'it is not valid JSON', { cause: error });
      throw error;
    }
    if (record === undefined) return null;
    if (!isUndoRecord(record) || record.index !== index)
      throw new UndoRecordCorruptError(file, 'it does not have the fields of an undo record');
    return record;
  }

  async put(record: UndoRecord): Promise<void> {
    await writeStateFile(this.file(record.index), record);
  }

  async delete(index: number): Promise<void> {
    await rm(this.file(index), { force: true });
  }

  private file(index: number): string {
    if (!Number.isInteger(index) || index < 0)
      throw new InvalidRangeError(`undo record index ${index} is not a non-negative integer`);
    return join(this.dir, `item-${index}.json`);
  }
}

function isUndoRecord(value: unknown): value is UndoRecord {
  const r = value as Partial<UndoRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.index) &&
    typeof r.path === 'string' &&
    typeof r.existed === 'boolean' &&
    (r.mode === null || Number.isInteger(r.mode)) &&
    (r.contentBase64 === null || typeof r.contentBase64 === 'string') &&
    r.existed === (r.contentBase64 !== null) &&
    typeof r.sha256After === 'string'
  );
}
