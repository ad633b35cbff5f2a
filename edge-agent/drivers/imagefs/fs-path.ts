/** Paths inside a volume: absolute and canonical, so every driver and every check sees the same file. */
import { InvalidFsPathError } from './errors';

/** Long enough for any configuration file, short enough for every tool's command line. */
export const MAX_FS_PATH_BYTES = 1024;
const MAX_NAME_BYTES = 255;

export interface SplitFsPath {
  /** `/` for a file in the root directory. */
  parent: string;
  name: string;
}

/** Checks an fs path (absolute, no `.`/`..`/empty components, no NUL or line breaks) and splits it. */
export function splitFsPath(fsPath: string): SplitFsPath {
  if (typeof fsPath !== 'string' || !fsPath.startsWith('/')) {
    throw new InvalidFsPathError(String(fsPath), 'it is not absolute');
  }
  if (/[\0\n\r]/.test(fsPath)) throw new InvalidFsPathError(fsPath, 'it contains a NUL or line-break character');
  if (Buffer.byteLength(fsPath) > MAX_FS_PATH_BYTES) {
    throw new InvalidFsPathError(fsPath, `it is longer than ${MAX_FS_PATH_BYTES} bytes`);
  }
  const names = fsPath.slice(1).split('/');
  for (const name of names) {
    if (name === '' || name === '.' || name === '..') {
      throw new InvalidFsPathError(
        fsPath,
        fsPath === '/' ? 'it names the root directory' : `it has a '${name}' component`,
      );
    }
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new InvalidFsPathError(fsPath, `a component is longer than ${MAX_NAME_BYTES} bytes`);
    }
  }
  const name = names.pop()!;
  return { parent: `/${names.join('/')}`, name };
}
