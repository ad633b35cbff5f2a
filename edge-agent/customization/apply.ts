/**
 * Applies customization items `from` … `to - 1` to an offline volume.
 *
 * Every change is computed (variables, sources, regular expressions) before the first byte of the
 * image changes, so an invalid item, a missing file or a runaway pattern leaves the image untouched.
 * Then, per item: the undo record is stored, the file written and read back. An item that fails
 * then (a full filesystem, a file that another writer changed meanwhile) undoes the items this task
 * applied before it fails, so the image is as the task found it (PartialApplyError).
 *
 * Retrying after a crash is safe: an item whose undo record exists and whose file already has the
 * recorded result is skipped; an item whose record exists but whose write did not finish is redone
 * from the content saved in the record.
 */

import { MissingDirectoryError } from '../drivers/imagefs/errors';
import { splitFsPath } from '../drivers/imagefs/fs-path';
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { FileNotFoundError, PartialApplyError, SourceReadError, UndoConflictError } from './errors';
import { type CustomizationItem, type ResolvedItem, resolveItems } from './items';
import { DEFAULT_REGEX_TIMEOUT_MS, replaceInContent } from './regex';
import { rollbackCustomization } from './rollback';
import type { UndoRecord, UndoStore } from './undo-store';
import { DEFAULT_MODE, type FileState, sha256, VolumeFiles } from './volume-files';

export { rollbackCustomization } from './rollback';

export interface ApplyArgs {
  imagePath: string;
  fs: ImageFilesystem;
  volume: VolumeInfo;
  /** The whole ordered list (master template, then the assignment's extra items). */
  items: CustomizationItem[];
  variables: Record<string, string>;
  /** Items already applied (the current pointer). */
  from: number;
  /** The pointer to reach: from <= to <= items.length. */
  to: number;
  undo: UndoStore;
  /** Resolves a file item's `source` to its bytes; required when any item in range has one. */
  readSource?: (source: string) => Promise<Buffer>;
  regexTimeoutMs?: number;
  onProgress?: (done: number, total: number) => void;
}

// Type aliases rather than interfaces, so results can be passed on as plain JSON records.
export type AppliedChange = {
  index: number;
  path: string;
  /** null when the item created the file. */
  sha256Before: string | null;
  sha256After: string;
};

export type ApplyResult = {
  /** The new pointer: how many items are now in (equals `to`). */
  applied: number;
  changes: AppliedChange[];
};

interface Step {
  index: number;
  path: string;
  /** Already in: found with its undo record and its result (a retry after a crash). */
  done: boolean;
  record: UndoRecord;
  after: Buffer;
  mode: number;
}

export async function applyCustomization(a: ApplyArgs): Promise<ApplyResult> {
  const items = resolveItems(a.items, a.variables, a.from, a.to, { canReadSources: a.readSource !== undefined });
  const files = new VolumeFiles(a);
  const steps = await plan(items, files, a);
  let finished = 0;
  for (const step of steps) {
    try {
      if (!step.done) {
        await a.undo.put(step.record);
        await files.write(step.index, step.path, step.after, step.mode);
      }
    } catch (failure) {
      throw await undoThisTask(a, step.index, failure);
    }
    a.onProgress?.(++finished, steps.length);
  }
  return {
    applied: a.to,
    changes: steps.map(({ index, path, record }) => ({
      index,
      path,
      sha256Before: record.contentBase64 === null ? null : sha256(Buffer.from(record.contentBase64, 'base64')),
      sha256After: record.sha256After,
    })),
  };
}

/**
 * Item `failed` could not be written after items `a.from` … `failed - 1` were (by this task, or by an
 * attempt of it that a crash cut short): undoes them and whatever `failed` itself changed, from
 * their undo records, so the image is as the task found it. The error says whether that worked.
 */
async function undoThisTask(a: ApplyArgs, failed: number, failure: unknown): Promise<PartialApplyError> {
  let undone = 0;
  try {
    await rollbackCustomization({ ...a, from: failed + 1, to: a.from, onProgress: (done) => (undone = done) });
  } catch (undoFailure) {
    return new PartialApplyError(failure, a.from, failed, { undoFailure, leftUpTo: failed - undone });
  }
  return new PartialApplyError(failure, a.from, failed);
}

/** Works out every item's result in memory, each item seeing the results of the items before it. */
async function plan(items: ResolvedItem[], files: VolumeFiles, a: ApplyArgs): Promise<Step[]> {
  const pending = new Map<string, FileState>();
  const steps: Step[] = [];
  for (const item of items) {
    const current = pending.get(item.path) ?? (await files.read(item.path));
    const saved = await a.undo.get(item.index);
    if (saved && saved.path !== item.path) throw new UndoConflictError(item.index, saved.path, item.path);
    // With a record, the file before this item is the one the record saved, whatever a crash left behind.
    const before = saved ? recordedState(saved) : current;
    const mode = (item.type === 'file' ? item.mode : undefined) ?? before.mode ?? DEFAULT_MODE;
    if (saved && current.content !== null && sha256(current.content) === saved.sha256After && current.mode === mode) {
      steps.push({ index: item.index, path: item.path, done: true, record: saved, after: current.content, mode });
      pending.set(item.path, current);
      continue;
    }
    if (before.content === null && item.type === 'file') {
      const { parent } = splitFsPath(item.path);
      if (!(await files.exists(parent))) throw new MissingDirectoryError(item.path, parent, { index: item.index });
    }
    const after = await compute(item, before, a);
    const record: UndoRecord = {
      index: item.index,
      path: item.path,
      existed: before.content !== null,
      mode: before.mode,
      contentBase64: before.content?.toString('base64') ?? null,
      sha256After: sha256(after),
    };
    steps.push({ index: item.index, path: item.path, done: false, record, after, mode });
    pending.set(item.path, { content: after, mode });
  }
  return steps;
}

function recordedState(record: UndoRecord): FileState {
  return record.contentBase64 === null
    ? { content: null, mode: null }
    : { content: Buffer.from(record.contentBase64, 'base64'), mode: record.mode };
}

async function compute(item: ResolvedItem, before: FileState, a: ApplyArgs): Promise<Buffer> {
  if (item.type === 'replace') {
    if (before.content === null) throw new FileNotFoundError(item.index, item.path);
    return replaceInContent(before.content, item, a.regexTimeoutMs ?? DEFAULT_REGEX_TIMEOUT_MS);
  }
  if (item.content !== undefined) return Buffer.from(item.content, 'utf8');
  const source = item.source!;
  let bytes: unknown;
  try {
    bytes = await a.readSource!(source);
  } catch (error) {
    throw new SourceReadError(item.index, source, (error as Error).message ?? String(error), { cause: error });
  }
  if (!(bytes instanceof Uint8Array)) throw new SourceReadError(item.index, source, 'readSource did not return bytes');
  return Buffer.from(bytes);
}
