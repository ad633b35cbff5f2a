import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PathEscapeError, RepositoryUnavailableError } from './errors';

/** Prefix of files being written; anything carrying it is incomplete and safe to delete after a crash. */
export const TEMP_PREFIX = '.encompass-tmp-';

/**
 * Prefix of an image being received from outside (an upload). Unlike a temp file it survives restarts and
 * cleanupTemp, so an interrupted transfer resumes where it stopped.
 */
export const PARTIAL_PREFIX = '.encompass-partial-';

/** Suffix of the directory next to an image holding its customization undo records. */
export const SIDECAR_SUFFIX = '.encompass';

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** realpath of the repository root; the root must be absolute and reachable. */
export async function realRoot(repoPath: string): Promise<string> {
  if (!path.isAbsolute(repoPath)) throw new RepositoryUnavailableError(repoPath);
  try {
    return await fs.realpath(repoPath);
  } catch (err) {
    throw new RepositoryUnavailableError(repoPath, { cause: err });
  }
}

/**
 * realpath of `p`, or of its nearest existing ancestor joined with the missing remainder. A dangling
 * symlink is followed by hand, since writing through it would create its target wherever it points.
 */
async function realpathOfNearest(p: string): Promise<string> {
  let existing = p;
  let rest = '';
  let linksFollowed = 0;
  while (linksFollowed <= 40) {
    try {
      return path.join(await fs.realpath(existing), rest);
    } catch (err) {
      if (!isMissing(err)) throw err;
      const link = await fs.lstat(existing).then(
        (st) => st.isSymbolicLink(),
        () => false,
      );
      if (link) {
        linksFollowed++;
        existing = path.resolve(path.dirname(existing), await fs.readlink(existing));
        continue;
      }
      const parent = path.dirname(existing);
      if (parent === existing) throw err;
      rest = path.join(path.basename(existing), rest);
      existing = parent;
    }
  }
  throw Object.assign(new Error(`too many symbolic links resolving ${p}`), { code: 'ELOOP' });
}

/**
 * Absolute path of `rel` inside the repository at `repoPath`, refusing anything that would leave it:
 * absolute names, `..` escapes, NUL bytes, and symlinks (anywhere on the path) resolving outside.
 */
export async function resolveInside(repoPath: string, rel: string): Promise<string> {
  const refuse = (reason: string) => new PathEscapeError(repoPath, rel, reason);
  if (typeof rel !== 'string' || rel.trim() === '') throw refuse('the name is empty');
  if (rel.includes('\0')) throw refuse('the name contains a NUL byte');
  if (path.isAbsolute(rel)) throw refuse('absolute paths are not allowed');

  const root = await realRoot(repoPath);
  const lexical = path.resolve(repoPath, rel);
  if (!isInside(path.resolve(repoPath), lexical)) throw refuse('it leads outside the repository');

  let real: string;
  try {
    real = await realpathOfNearest(lexical);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
    throw new PathEscapeError(repoPath, rel, 'symlinks on the path loop', { cause: err });
  }
  if (!isInside(root, real)) throw refuse('a symlink on the path leads outside the repository');
  return lexical;
}
