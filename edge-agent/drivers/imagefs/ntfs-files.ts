/**
 * The passes behind NtfsImageFilesystem, each over one ntfs-3g mount (ntfs-mount.ts): many files read
 * in one read-only mount; many changes made in one writable mount, then read back in a fresh
 * read-only one, so what is compared is what reached the image, not what a cache still holds.
 * Links are never followed: entries are looked at with lstat, and a change is refused (before the
 * writable mount) unless it names a regular file or nothing.
 */
import { chmod, chown, lstat, readFile, readlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkChanges, mismatch } from './changes';
import { WriteVerificationError } from './errors';
import { splitFsPath } from './fs-path';
import type { FileChange, FileEntry, FileSnapshot } from './interface';
import { type NtfsTarget, withMountedVolume } from './ntfs-mount';

/** What is at each path (null where nothing is), with the content of regular files when `withContent`. */
export async function readPass(
  target: NtfsTarget,
  paths: readonly string[],
  withContent: boolean,
): Promise<Map<string, FileEntry | null>> {
  const unique = [...new Set(paths)];
  for (const path of unique) splitFsPath(path);
  return withMountedVolume(target, false, (root) => readAll(root, unique, withContent));
}

/**
 * Checks every change against `basis`, makes them all in one writable mount, unmounts (ntfs-3g has
 * written everything once it exits), and reads every changed path back in a new mount: the first that
 * is not as written is WriteVerificationError.
 */
export async function writePass(
  target: NtfsTarget,
  changes: readonly FileChange[],
  basis: FileSnapshot,
): Promise<void> {
  checkChanges(changes, basis);
  const needed = changes.filter((c) => c.content !== null || basis.get(c.path));
  if (needed.length === 0) return;
  await withMountedVolume(target, true, async (root) => {
    for (const change of needed) await apply(root, change, basis.get(change.path) ?? null);
  });
  const after = await readPass(
    target,
    changes.map((c) => c.path),
    true,
  );
  for (const change of changes) {
    const problem = mismatch(change, after.get(change.path) ?? null);
    if (problem) throw new WriteVerificationError(target.imagePath, change.path, problem);
  }
}

async function apply(root: string, change: FileChange, existing: FileEntry | null): Promise<void> {
  const local = join(root, change.path);
  if (change.content === null) {
    await unlink(local);
    return;
  }
  // Writing in place keeps a replaced file's security descriptor (its owner and its ACL beyond the mode).
  await writeFile(local, change.content);
  await chmod(local, change.mode);
  const owner = change.owner ?? (existing ? { uid: existing.uid, gid: existing.gid } : { uid: 0, gid: 0 });
  const now = await lstat(local);
  if (now.uid !== owner.uid || now.gid !== owner.gid) await chown(local, owner.uid, owner.gid);
}

async function readAll(root: string, paths: string[], withContent: boolean): Promise<Map<string, FileEntry | null>> {
  const found = new Map<string, FileEntry | null>();
  for (const path of paths) found.set(path, await entryAt(join(root, path), withContent));
  return found;
}

async function entryAt(local: string, withContent: boolean): Promise<FileEntry | null> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(local);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  const entry: FileEntry = { type: typeOf(stats), mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  if (entry.type === 'regular' && withContent) entry.content = await readFile(local);
  if (entry.type === 'symlink') entry.linkTarget = await readlink(local);
  return entry;
}

/** The names debugfs gives, so every driver reports the same types. */
function typeOf(stats: Awaited<ReturnType<typeof lstat>>): string {
  if (stats.isFile()) return 'regular';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  return stats.isBlockDevice() ? 'block device' : 'character device';
}
