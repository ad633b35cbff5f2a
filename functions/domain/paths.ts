/**
 * Paths inside a repository, checked before anything is started. The agent checks again against
 * the real filesystem (symlinks), since only it can see them.
 */
import { InvalidPathError } from '../errors';

export function checkRepositoryPath(path: string): string {
  if (path.includes('\0')) throw new InvalidPathError(path.replace(/\0/g, '\\0'), 'contains a NUL byte');
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) throw new InvalidPathError(path, 'is absolute');
  const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) throw new InvalidPathError(path, 'is empty');
  if (parts.includes('..')) throw new InvalidPathError(path, 'climbs out with ".."');
  return parts.join('/');
}

/** Names of resources: used in paths and ARNs, so kept to a safe alphabet. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const NAME_RULE = '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';
