/**
 * Applies customization items `from` … `to - 1` to an offline volume, in one pass over the image:
 * every file the items touch (and every directory a new file goes in) is read in one run; every
 * change and undo record is worked out in memory (variables, sources, regular expressions), so an
 * invalid item, a missing file or a runaway pattern leaves the image untouched; the undo records are
 * stored; then each touched file is written once, with its final content, in one run, and read back
 * in one more. A write that fails (a full filesystem, a file that did not read back) is undone from
 * what the task found, so the image is as it was before the task (PartialApplyError).
 *
 * Retrying after a crash is safe. The undo records are all stored before the image changes, and an
 * item's record says what its file was before it: a retry takes that, not the image, as the file
 * before the item, so it works out the same changes. A file that already holds its result is left
 * alone (a crash after the write, before the commit, changes nothing at retry); one that does not is
 * written again.
 */

import { MissingDirectoryError } from '../drivers/imagefs/errors';
import { splitFsPath } from '../drivers/imagefs/fs-path';
import type { FileSnapshot, ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import {
  FileNotFoundError,
  PartialApplyError,
  SecretUnreadableError,
  SourceReadError,
  UndoConflictError,
} from './errors';
import { type CustomizationItem, type ResolvedItem, resolveItems, secretsUsed } from './items';
import { DEFAULT_REGEX_TIMEOUT_MS, replaceInContent } from './regex';
import { mergeRegistryValue } from './registry';
import { recordedState, sameRecord, type UndoRecord, type UndoStore } from './undo-store';
import {
  changesTo,
  DEFAULT_MODE,
  type FileState,
  readSnapshot,
  sameState,
  sha256,
  stateIn,
  writeChanges,
} from './volume-files';

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
  /**
   * The value of the template secret `${secret:NAME}`, from the secret store, in memory; required when
   * any item in range names one. Values go into the files only: never into a result or an undo record.
   */
  readSecret?: (name: string) => Promise<string>;
  regexTimeoutMs?: number;
  /** Its three passes as they end: read (1 of 3), undo records stored (2 of 3), written and read back (3 of 3). */
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

/** The task worked out in memory. */
interface Plan {
  /** One record per item, in order, and the one an earlier attempt stored for it. */
  steps: { record: UndoRecord; stored: UndoRecord | undefined }[];
  /** Each touched file before the first item of the task that touches it. */
  before: Map<string, FileState>;
  /** Each touched file after the last item that touches it. */
  after: Map<string, FileState>;
}

export async function applyCustomization(a: ApplyArgs): Promise<ApplyResult> {
  const secrets = await readSecrets(a);
  const items = resolveItems(a.items, a.variables, a.from, a.to, {
    canReadSources: a.readSource !== undefined,
    secrets,
  });
  const saved = await savedRecords(a.undo, items);
  const directories = items.flatMap((i) => (i.type === 'file' ? [splitFsPath(i.path).parent] : []));
  const found = await readSnapshot(a, [...items.map((i) => i.path), ...directories.filter((d) => d !== '/')]);
  if (items.length > 0) a.onProgress?.(1, 3);
  const plan = await planChanges(items, saved, found, a);
  const changes = changesTo(plan.after, found);
  await storeRecords(a.undo, plan);
  if (items.length > 0) a.onProgress?.(2, 3);
  if (changes.length > 0) {
    const indexOf = (path: string) => items.find((i) => i.path === path)?.index ?? a.from;
    try {
      await writeChanges(a, changes, found, indexOf);
    } catch (failure) {
      throw await undoThisTask(a, items, plan, found, failure);
    }
  }
  if (items.length > 0) a.onProgress?.(3, 3);
  return {
    applied: a.to,
    changes: plan.steps.map(({ record }) => ({
      index: record.index,
      path: record.path,
      sha256Before: record.contentBase64 === null ? null : sha256(Buffer.from(record.contentBase64, 'base64')),
      sha256After: record.sha256After,
    })),
  };
}

/** Every secret the range names, each read once, before anything else happens. */
async function readSecrets(a: ApplyArgs): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const [name, usedBy] of secretsUsed(a.items, a.from, a.to)) {
    if (!a.readSecret) throw new SecretUnreadableError(name, usedBy, 'this agent was given no secret store');
    try {
      values.set(name, await a.readSecret(name));
    } catch (error) {
      throw new SecretUnreadableError(name, usedBy, (error as Error).message, { cause: error });
    }
  }
  return values;
}

/** The records an earlier attempt stored, each checked to belong to the item now at its index. */
async function savedRecords(undo: UndoStore, items: ResolvedItem[]): Promise<Map<number, UndoRecord>> {
  const records = await Promise.all(items.map((item) => undo.get(item.index)));
  const saved = new Map<number, UndoRecord>();
  for (const [i, item] of items.entries()) {
    const record = records[i];
    if (!record) continue;
    if (record.path !== item.path) throw new UndoConflictError(item.index, record.path, item.path);
    saved.set(item.index, record);
  }
  return saved;
}

/** Works out every item's result in memory, each item seeing the results of the items before it. */
async function planChanges(
  items: ResolvedItem[],
  saved: ReadonlyMap<number, UndoRecord>,
  found: FileSnapshot,
  a: ApplyArgs,
): Promise<Plan> {
  const plan: Plan = { steps: [], before: new Map(), after: new Map() };
  for (const item of items) {
    const stored = saved.get(item.index);
    // With a record, the file before this item is the one the record saved, whatever a crash left behind.
    const before = stored ? recordedState(stored) : (plan.after.get(item.path) ?? stateIn(found, item.path));
    if (!plan.before.has(item.path)) plan.before.set(item.path, before);
    const mode = (item.type === 'file' ? item.mode : undefined) ?? before.mode ?? DEFAULT_MODE;
    if (before.content === null && item.type === 'file') {
      const { parent } = splitFsPath(item.path);
      const directory = parent === '/' ? { type: 'directory' } : found.get(parent);
      if (directory?.type !== 'directory') throw new MissingDirectoryError(item.path, parent, { index: item.index });
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
    plan.steps.push({ record, stored });
    plan.after.set(item.path, { content: after, mode });
  }
  return plan;
}

/**
 * Every record goes to disk before the image changes. When that fails, the image is as it was and
 * the records this attempt added are dropped; those an earlier attempt stored stay, since they may
 * be all that knows what the files were.
 */
async function storeRecords(undo: UndoStore, plan: Plan): Promise<void> {
  const changed = plan.steps.filter((s) => !s.stored || !sameRecord(s.stored, s.record));
  try {
    await Promise.all(changed.map((s) => undo.put(s.record)));
  } catch (failure) {
    await Promise.allSettled(changed.filter((s) => !s.stored).map((s) => undo.delete(s.record.index)));
    throw failure;
  }
}

/**
 * The write failed, part-way or in its read-back: puts every touched file back as the task found it
 * (as its first undo record says), in one more pass, and drops this task's records. The error names
 * the first item whose file did not take, and says whether putting things back worked.
 */
async function undoThisTask(
  a: ApplyArgs,
  items: ResolvedItem[],
  plan: Plan,
  found: FileSnapshot,
  failure: unknown,
): Promise<PartialApplyError> {
  let failed = items[0]!.index;
  try {
    const now = await readSnapshot(a, plan.before.keys());
    failed = items.find((i) => !sameState(stateIn(now, i.path), plan.after.get(i.path)!))?.index ?? failed;
    const indexOf = (path: string) => items.find((i) => i.path === path)!.index;
    await writeChanges(a, changesTo(plan.before, now, found), now, indexOf);
    for (const { record } of [...plan.steps].reverse()) await a.undo.delete(record.index);
  } catch (undoFailure) {
    return new PartialApplyError(failure, a.from, failed, a.to - 1, { undoFailure });
  }
  return new PartialApplyError(failure, a.from, failed, a.to - 1);
}

async function compute(item: ResolvedItem, before: FileState, a: ApplyArgs): Promise<Buffer> {
  if (item.type === 'replace') {
    if (before.content === null) throw new FileNotFoundError(item.index, item.path);
    return replaceInContent(before.content, item, a.regexTimeoutMs ?? DEFAULT_REGEX_TIMEOUT_MS);
  }
  if (item.type === 'registry') {
    if (before.content === null) throw new FileNotFoundError(item.index, item.path);
    return mergeRegistryValue(before.content, item);
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
