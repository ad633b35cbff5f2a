/**
 * Whether a repository's root is usable: an absolute path to a directory this agent can write in.
 * Writing is tried for real (a temp file made and removed), since mode bits do not stop root while a
 * read-only mount, or a file where the directory should be, does.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RepositoryUnreachableError } from './errors';
import { TEMP_PREFIX } from './paths';

export interface RootSpace {
  freeBytes: number;
  totalBytes: number;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'unknown';

/** The free and total bytes of the root's filesystem; RepositoryUnreachableError says what is wrong with it. */
export async function reachRoot(root: string, host: string): Promise<RootSpace> {
  const refuse = (problem: string, fix: string, cause?: unknown) =>
    new RepositoryUnreachableError(root, host, problem, fix, { cause });
  const elsewhere = 'or delete the repository and create it with the right path';
  if (!path.isAbsolute(root)) throw refuse(`${root} is not an absolute path`, `give one ${elsewhere.slice(3)}`);
  const st = await fs.stat(root).catch((e) => {
    if (code(e) === 'ENOENT') throw refuse(`no such directory ${root}`, `create it (mkdir -p ${root}) ${elsewhere}`, e);
    if (code(e) === 'ENOTDIR')
      throw refuse(
        `${root} is not a directory (a file is where one of its parents should be)`,
        `move the file ${elsewhere}`,
        e,
      );
    throw refuse(`cannot read ${root} (${code(e)})`, `fix its permissions or mount ${elsewhere}`, e);
  });
  if (!st.isDirectory()) throw refuse(`${root} is not a directory (a file is there)`, `move the file ${elsewhere}`);
  const probe = path.join(root, `${TEMP_PREFIX}reach-${randomBytes(6).toString('hex')}`);
  try {
    await fs.writeFile(probe, '', { flag: 'wx' });
  } catch (e) {
    throw refuse(`cannot write in ${root} (${code(e)})`, `mount it read-write or fix its permissions ${elsewhere}`, e);
  }
  await fs.rm(probe, { force: true });
  const fsStat = await fs.statfs(root);
  return { freeBytes: fsStat.bavail * fsStat.bsize, totalBytes: fsStat.blocks * fsStat.bsize };
}
