import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { CorruptImageError, OperationAbortedError } from './errors';
import { hashFile } from './hash';
import type { CopyOptions } from './interface';
import { runPair, twoPartProgress } from './progress';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Zero detection granularity: the usual filesystem block, so holes survive even inside a chunk. */
const BLOCK_BYTES = 4096;
const ZEROS = Buffer.alloc(CHUNK_BYTES);
/** Chunks being written while the next ones are read; bounds memory to (window + 2) chunks. */
const WRITE_WINDOW = 3;
/**
 * Written bytes after which writeback is started (an fdatasync in the background), so flushing to disk
 * overlaps the copying instead of all happening in the final fsync.
 */
const EARLY_FLUSH_BYTES = 128 * 1024 * 1024;

function isZero(buf: Buffer): boolean {
  return buf.equals(ZEROS.subarray(0, buf.length));
}

/** Marks a promise as handled now (it is awaited later), so an early rejection never crashes the process. */
function settledLater<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await fh.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/** Writes only the runs of non-zero blocks of `chunk`, leaving zero blocks as holes; returns bytes written. */
async function writeNonZeroRuns(fh: FileHandle, chunk: Buffer, position: number): Promise<number> {
  if (isZero(chunk)) return 0;
  let written = 0;
  let runStart = -1;
  const flushRun = async (end: number) => {
    await writeAll(fh, chunk.subarray(runStart, end), position + runStart);
    written += end - runStart;
    runStart = -1;
  };
  for (let off = 0; off < chunk.length; off += BLOCK_BYTES) {
    const zero = isZero(chunk.subarray(off, off + BLOCK_BYTES));
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) await flushRun(off);
  }
  if (runStart >= 0) await flushRun(chunk.length);
  return written;
}

/** Starts an fdatasync whenever EARLY_FLUSH_BYTES more have been written and none is running. */
function earlyFlusher(fh: FileHandle) {
  let unflushed = 0;
  let running: Promise<void> | null = null;
  return {
    wrote(bytes: number) {
      unflushed += bytes;
      if (running || unflushed < EARLY_FLUSH_BYTES) return;
      unflushed = 0;
      running = settledLater(fh.datasync().finally(() => (running = null)));
    },
    settle: () => running ?? Promise.resolve(),
  };
}

/**
 * Copies the first `sizeBytes` of `input` to `output` in 4 MiB chunks, reading one chunk ahead and
 * writing up to WRITE_WINDOW chunks behind, skipping zero blocks. `onCopied` gets the bytes read so far.
 */
async function copyNonZero(
  input: FileHandle,
  output: FileHandle,
  sizeBytes: number,
  what: { operation: string; path: string },
  signal: AbortSignal,
  onCopied: (done: number) => void,
): Promise<void> {
  const buffers = Array.from({ length: WRITE_WINDOW + 2 }, () => Buffer.allocUnsafe(CHUNK_BYTES));
  const flusher = earlyFlusher(output);
  const pending: Promise<void>[] = [];
  const readChunk = (index: number, position: number) =>
    settledLater(
      input.read(buffers[index % buffers.length]!, 0, Math.min(CHUNK_BYTES, sizeBytes - position), position),
    );

  let done = 0;
  let index = 0;
  let next = sizeBytes > 0 ? readChunk(0, 0) : null;
  try {
    while (next) {
      if (signal.aborted) throw new OperationAbortedError(what.operation, what.path, { cause: signal.reason });
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) throw new CorruptImageError(what.path, `the file shrank to ${done} bytes while being read`);
      const chunk = buffer.subarray(0, bytesRead);
      const position = done;
      done += bytesRead;
      index++;
      // The next read reuses the buffer of the oldest write in the window: that write must be finished.
      while (pending.length > WRITE_WINDOW) await pending.shift();
      next = done < sizeBytes ? readChunk(index, done) : null;
      pending.push(settledLater(writeNonZeroRuns(output, chunk, position).then(flusher.wrote)));
      onCopied(done);
    }
    await Promise.all(pending);
  } finally {
    await Promise.allSettled([...pending, next, flusher.settle()]);
  }
}

/**
 * Copies `src` into the new file `dst` (which must not exist, created with `mode`), keeping holes, and
 * flushes it to disk; a worker thread hashes `src` meanwhile. Returns the sha256 of `src`. On failure
 * `dst` may be left behind; the caller removes it.
 */
export async function sparseCopy(
  src: string,
  dst: string,
  opts: CopyOptions = {},
  mode = 0o644,
): Promise<{ sha256: string; sizeBytes: number }> {
  const input = await fs.open(src, 'r');
  try {
    const { size } = await input.stat();
    const output = await fs.open(dst, 'wx', mode);
    try {
      // Writing below EOF keeps the filesystem from preallocating past it (XFS would fill holes that way).
      await output.truncate(size);
      const progress = twoPartProgress(size, opts.onProgress);
      const what = { operation: 'Copying', path: src };
      const [, sha256] = await runPair(
        opts.signal,
        what,
        // Flushing belongs to the copying half, so it overlaps the rest of the hashing.
        async (signal) => {
          await copyNonZero(input, output, size, what, signal, (done) => progress.first(done / size));
          await output.sync();
        },
        (signal) => hashFile(src, size, { signal, onProgress: (done) => progress.second(done / size) }),
      );
      progress.finish();
      return { sha256, sizeBytes: size };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
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
