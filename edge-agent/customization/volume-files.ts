/**
 * The files of one volume as customization sees them: content and mode together, read in one pass
 * and changed in one pass (plus the driver's read-back), whatever the number of items.
 */
import { createHash } from 'node:crypto';
import { notRegularError } from '../drivers/imagefs/errors';
import type { FileChange, FileSnapshot, ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { VerificationError } from './errors';

export interface FileState {
  /** null when the file does not exist. */
  content: Buffer | null;
  mode: number | null;
}

export const DEFAULT_MODE = 0o644;

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface Volume {
  imagePath: string;
  fs: ImageFilesystem;
  volume: VolumeInfo;
}

export function readSnapshot(v: Volume, paths: Iterable<string>): Promise<FileSnapshot> {
  return v.fs.readFiles(v.imagePath, v.volume, [...new Set(paths)]);
}

/** The file at `path` in `snapshot`; something other than a regular file there is refused. */
export function stateIn(snapshot: FileSnapshot, path: string): FileState {
  const entry = snapshot.get(path) ?? null;
  if (!entry) return { content: null, mode: null };
  if (entry.type !== 'regular') throw notRegularError(path, entry);
  return { content: entry.content ?? Buffer.alloc(0), mode: entry.mode };
}

export function sameState(a: FileState, b: FileState): boolean {
  if (a.content === null || b.content === null) return a.content === b.content;
  return a.content.equals(b.content) && a.mode === b.mode;
}

/**
 * The changes that make each path hold its wanted state, leaving alone the paths that already do.
 * A file written back gets the owner it had in `owners` (when given and it was there).
 */
export function changesTo(
  wanted: ReadonlyMap<string, FileState>,
  now: FileSnapshot,
  owners?: FileSnapshot,
): FileChange[] {
  const changes: FileChange[] = [];
  for (const [path, state] of wanted) {
    if (sameState(stateIn(now, path), state)) continue;
    if (state.content === null) {
      changes.push({ path, content: null });
      continue;
    }
    const had = owners?.get(path);
    changes.push({
      path,
      content: state.content,
      mode: state.mode ?? DEFAULT_MODE,
      ...(had ? { owner: { uid: had.uid, gid: had.gid } } : {}),
    });
  }
  return changes;
}

/**
 * Makes every change in one pass; the driver reads them back and compares. A file that did not read
 * back as written is VerificationError, naming the item `indexOf` gives for its path.
 */
export async function writeChanges(
  v: Volume,
  changes: FileChange[],
  basis: FileSnapshot,
  indexOf: (path: string) => number,
): Promise<void> {
  if (changes.length === 0) return;
  try {
    await v.fs.writeFiles(v.imagePath, v.volume, changes, basis);
  } catch (e) {
    const failed = e as { code?: string; fsPath?: string; message?: string };
    if (failed.code === 'write_verification_failed' && failed.fsPath !== undefined)
      throw new VerificationError(
        indexOf(failed.fsPath),
        failed.fsPath,
        `did not read back as written (${failed.message})`,
        {
          cause: e,
        },
      );
    throw e;
  }
}
