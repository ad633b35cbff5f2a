/** Creating a new image under its final name only once it is complete and on disk, never replacing one. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { syncDirectory } from '../../state-file';
import { ToolFailedError } from '../errors';
import { DiskFullError, ImageExistsError } from './errors';
import type { ReceiveFn } from './interface';
import { markOwner, ownerOf } from './owner';
import { PARTIAL_PREFIX, realRoot, SIDECAR_SUFFIX, TEMP_PREFIX } from './paths';
import { syncFile } from './sparse-copy';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function isNoSpace(err: unknown): boolean {
  if (err instanceof ToolFailedError) return err.noSpace;
  return errno(err) === 'ENOSPC' || errno(err) === 'EDQUOT';
}

/** Temp files and partials this process is writing right now: cleanup never takes them for leftovers. */
const writing = new Set<string>();

export const isBeingWritten = (file: string) => writing.has(file);

async function whileWriting<T>(file: string, fn: () => Promise<T>): Promise<T> {
  writing.add(file);
  try {
    return await fn();
  } finally {
    writing.delete(file);
  }
}

/**
 * Whether a new image may take the name `dstAbs`: yes when nothing is there, or when what is there was
 * made by `owner` (the same operation, run again), which is then replaced. Else ImageExistsError.
 */
async function mayTake(dstAbs: string, owner: string | undefined): Promise<boolean> {
  if (!(await lstatOrNull(dstAbs))) return false;
  if (owner && (await ownerOf(dstAbs)) === owner) return true;
  throw new ImageExistsError(dstAbs);
}

export async function lstatOrNull(p: string) {
  return fs.lstat(p).catch((err) => {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  });
}

export async function freeBytesOf(repoPath: string): Promise<number> {
  const st = await fs.statfs(await realRoot(repoPath));
  return st.bavail * st.bsize;
}

/** Removes `dir` and its parents up to and including `top`, stopping at the first that is not empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    if (
      !(await fs.rmdir(d).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (d === top) return;
  }
}

/**
 * Has `make` write a temp file next to `dstAbs` (which must not exist, unless `owner` made it) and renames
 * it into place; on any failure removes the temp file and any directories made for it. Checks
 * `neededBytes` are free first, and reports running out of space, up front or midway, as DiskFullError.
 * With `owner`, the image's sidecar notes it before the rename (see owner.ts).
 */
export async function writeNew<T>(
  repoPath: string,
  dstAbs: string,
  neededBytes: number,
  make: (tmp: string) => Promise<T>,
  owner?: string,
): Promise<T> {
  const replace = await mayTake(dstAbs, owner);
  const free = await freeBytesOf(repoPath);
  if (free < neededBytes) throw new DiskFullError(repoPath, neededBytes, free);

  const dir = path.dirname(dstAbs);
  const madeDir = await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(dstAbs)}`);
  try {
    // The temp file stays marked until it has its name: a repository check running meanwhile (another
    // task's, or the one a restarted agent's heartbeat starts) must not take it for a leftover.
    return await whileWriting(tmp, async () => {
      const result = await make(tmp);
      if (owner) await markOwner(dstAbs, owner);
      // A concurrent writer may have taken the name meanwhile; placeNew never replaces someone's image.
      await placeNew(tmp, dstAbs, replace);
      return result;
    });
  } catch (err) {
    await fs.rm(tmp, { force: true });
    // A marker noted for an image that never took its name goes with the temp file.
    if (owner && !replace) await fs.rm(`${dstAbs}${SIDECAR_SUFFIX}`, { recursive: true, force: true });
    if (madeDir) await removeEmptyDirs(dir, madeDir);
    if (isNoSpace(err))
      throw new DiskFullError(repoPath, neededBytes, await freeBytesOf(repoPath).catch(() => 0), { cause: err });
    throw err;
  }
}

/**
 * Renames the complete file `from` to the new name `dstAbs` (ImageExistsError when taken, unless `replace`
 * says it may go) and flushes both directories.
 */
export async function placeNew(from: string, dstAbs: string, replace = false): Promise<void> {
  const dir = path.dirname(dstAbs);
  await fs.mkdir(dir, { recursive: true });
  if (!replace && (await lstatOrNull(dstAbs))) throw new ImageExistsError(dstAbs);
  await fs.rename(from, dstAbs);
  await syncDirectory(dir);
  if (path.dirname(from) !== dir) await syncDirectory(path.dirname(from));
}

/**
 * Has `write` fill the partial file beside `dstAbs` (which must not exist, unless `owner` made it), then
 * flushes it and renames it into place. A failed `write` leaves the partial for the next attempt to resume.
 */
export async function receiveNew<T>(dstAbs: string, write: ReceiveFn<T>, owner?: string): Promise<T> {
  const replace = await mayTake(dstAbs, owner);
  const dir = path.dirname(dstAbs);
  await fs.mkdir(dir, { recursive: true });
  const partial = partialOf(dstAbs);
  return whileWriting(partial, async () => {
    const result = await write(partial, dstAbs);
    await syncFile(partial);
    if (owner) await markOwner(dstAbs, owner);
    await placeNew(partial, dstAbs, replace);
    return result;
  });
}

/** The partial file an image being received is written to. */
export const partialOf = (dstAbs: string) =>
  path.join(path.dirname(dstAbs), `${PARTIAL_PREFIX}${path.basename(dstAbs)}`);
