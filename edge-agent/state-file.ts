/**
 * The agent's durable JSON state (journal entries, exports, known repositories, machine records,
 * undo records): every file is replaced whole, through a temp file in the same directory that is
 * flushed before it is renamed over the old one, so a crash leaves the old file or the new one and
 * never half of either. Files are 0600 in 0700 directories: they may describe machines and images.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Suffix of the temp files; a name ending in it is a write cut short, safe to remove. */
export const STATE_TEMP_MARK = '.tmp-';

/** Replaces `file` with `value` as JSON: temp file, fsync, rename, fsync of the directory. */
export async function writeStateFile(file: string, value: unknown): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}${STATE_TEMP_MARK}${randomBytes(6).toString('hex')}`;
  try {
    const fh = await fs.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** The parsed content of `file`, or undefined when there is none. Unreadable JSON throws. */
export async function readStateFile<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

/** Flushes a directory's entries (a rename in it) to disk, where the filesystem allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
  } finally {
    await fh.close();
  }
}
