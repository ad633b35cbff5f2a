import { promises as fs } from 'node:fs';
import { copyRangesInWorker } from './copy-worker';
import { dataRanges, type Range } from './extents';
import { hashFile } from './hash';
import type { CopyOptions } from './interface';
import { runPair, twoPartProgress } from './progress';

/** The whole file as one range, when there is no extent map. */
const wholeFile = (sizeBytes: number): Range[] => (sizeBytes > 0 ? [{ offset: 0, length: sizeBytes }] : []);

export interface SparseCopyOptions extends CopyOptions {
  /**
   * `sparse`: zero blocks become holes. `allocated`: the copy is allocated where `src` is, zero blocks
   * included (where the extent map is not available, zero blocks become holes all the same).
   */
  holes?: 'sparse' | 'allocated';
  /**
   * The sha256 of `src` when already known (a master's, hashed whole at import): it is returned as the
   * copy's, and `src` is not hashed again. Without it a worker thread hashes `src` while the copy runs.
   */
  sourceSha256?: string;
}

/**
 * Copies `src` into the new file `dst` (which must not exist, created with `mode`) with plain reads and
 * writes of the data extents only (never copy_file_range, which shares extents on XFS and btrfs), keeping
 * holes, and flushes it to disk. Returns the sha256 of `src` (see
 * `sourceSha256`). On failure `dst` may be left behind; the caller removes it.
 */
export async function sparseCopy(
  src: string,
  dst: string,
  opts: SparseCopyOptions = {},
  mode = 0o644,
): Promise<{ sha256: string; sizeBytes: number }> {
  const input = await fs.open(src, 'r');
  try {
    const { size } = await input.stat();
    const keep = opts.holes === 'allocated';
    const mapped = await dataRanges(src, size, { signal: opts.signal, mergeGap: !keep });
    const ranges = mapped ?? wholeFile(size);
    const output = await fs.open(dst, 'wx', mode);
    try {
      // Writing below EOF keeps the filesystem from preallocating past it (XFS would fill holes that way).
      await output.truncate(size);
      const what = { operation: 'Copying', path: src };
      // Flushed once at the end, as `cp && sync` is: each flush on the way would force the filesystem's log.
      // Flushing belongs to the copying, so that it overlaps the rest of any hashing.
      const copy = async (signal: AbortSignal, onCopied: (offset: number) => void) => {
        const job = { input: input.fd, output: output.fd, ranges, keepZeros: keep && !!mapped, what, signal };
        await copyRangesInWorker({ ...job, onCopied });
        await output.sync();
      };
      const sha256 = opts.sourceSha256
        ? await copyOnly(size, opts, copy)
        : await copyAndHash(src, size, ranges, opts, what, copy);
      return { sha256, sizeBytes: size };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

type CopyFn = (signal: AbortSignal, onCopied: (offset: number) => void) => Promise<void>;

async function copyOnly(size: number, opts: SparseCopyOptions, copy: CopyFn): Promise<string> {
  const signal = opts.signal ?? new AbortController().signal;
  opts.onProgress?.(0, size);
  await copy(signal, (offset) => opts.onProgress?.(Math.min(offset, size - 1), size));
  opts.onProgress?.(size, size);
  return opts.sourceSha256!;
}

/** Copies and hashes at once (the hashing reads the data ranges, and hashes zeros for the holes). */
async function copyAndHash(
  src: string,
  size: number,
  ranges: Range[],
  opts: SparseCopyOptions,
  what: { operation: string; path: string },
  copy: CopyFn,
): Promise<string> {
  const progress = twoPartProgress(size, opts.onProgress);
  const [, sha256] = await runPair(
    opts.signal,
    what,
    (signal) => copy(signal, (offset) => progress.first(offset / size)),
    (signal) => hashFile(src, size, { signal, ranges, onProgress: (done) => progress.second(done / size) }),
  );
  progress.finish();
  return sha256;
}

/** Flushes a finished file (written by another program) to disk. */
export async function syncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
