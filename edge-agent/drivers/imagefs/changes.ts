/**
 * What every driver checks of a `writeFiles` call before it changes anything, and how it compares
 * what it read back with what it wrote: one set of rules, whatever the filesystem.
 */
import { InvalidModeError, MissingDirectoryError, notRegularError } from './errors';
import { splitFsPath } from './fs-path';
import type { FileChange, FileEntry, FileSnapshot } from './interface';

/** A mode within the permission bits, or undefined (the file's own, or the default). */
export function checkMode(mode: number | undefined): void {
  if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)) throw new InvalidModeError(mode);
}

/** The content of `fsPath` in a snapshot: null when it is absent; anything but a regular file is refused. */
export function regularContent(snapshot: FileSnapshot, fsPath: string): Buffer | null {
  const entry = snapshot.get(fsPath) ?? null;
  if (entry && entry.type !== 'regular') throw notRegularError(fsPath, entry);
  return entry?.content ?? null;
}

/**
 * Refuses the whole set unless every change can be made as asked: each path once, only regular files
 * replaced or removed, modes within the permission bits, and new files in directories `basis` has.
 */
export function checkChanges(changes: readonly FileChange[], basis: FileSnapshot): void {
  const seen = new Set<string>();
  for (const change of changes) {
    if (seen.has(change.path)) throw new Error(`writeFiles was given ${change.path} twice; give each path once`);
    seen.add(change.path);
    const { parent } = splitFsPath(change.path);
    const existing = basis.get(change.path) ?? null;
    if (existing && existing.type !== 'regular') throw notRegularError(change.path, existing);
    if (change.content === null) continue;
    checkMode(change.mode);
    const directory = parent === '/' ? { type: 'directory' } : basis.get(parent);
    if (!directory) throw new MissingDirectoryError(change.path, parent);
    if (directory.type !== 'directory')
      throw new MissingDirectoryError(change.path, parent, { reason: `is a ${directory.type}, not a directory,` });
  }
}

/** How the file read back differs from the change, or null when it is as written. */
export function mismatch(change: FileChange, after: FileEntry | null): string | null {
  if (change.content === null) return after ? 'the file is still there after removing it' : null;
  if (!after) return 'the file is missing after writing';
  if (after.type !== 'regular') return `it is a ${after.type} after writing`;
  if (after.mode !== change.mode) return `mode is ${octal(after.mode)}, expected ${octal(change.mode)}`;
  if (!after.content?.equals(change.content))
    return `read back ${after.content?.length ?? 0} bytes that differ from the ${change.content.length} written`;
  return null;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
