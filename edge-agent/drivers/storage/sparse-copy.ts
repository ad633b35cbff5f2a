import { createHash, type Hash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { CorruptImageError, OperationAbortedError } from './errors';
import type { CopyOptions } from './interface';

const CHUNK_BYTES = 1024 * 1024;
/** Zero detection granularity: the usual filesystem block, so holes survive even inside a chunk. */
const BLOCK_BYTES = 4096;
const ZEROS = Buffer.alloc(CHUNK_BYTES);

function isZero(buf: Buffer): boolean {
  return buf.equals(ZEROS.subarray(0, buf.length));
}

/** Reads `fh` front to back in 1 MiB chunks, hashing everything and handing each chunk to `onChunk`. */
async function streamChunks(
  fh: FileHandle,
  sizeBytes: number,
  what: { operation: string; path: string },
  opts: CopyOptions,
  onChunk?: (chunk: Buffer, position: number) => Promise<void>,
): Promise<string> {
  const hash: Hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let done = 0;
  opts.onProgress?.(0, sizeBytes);
  while (done < sizeBytes) {
    if (opts.signal?.aborted) throw new OperationAbortedError(what.operation, what.path, { cause: opts.signal.reason });
    const want = Math.min(CHUNK_BYTES, sizeBytes - done);
    const { bytesRead } = await fh.read(buf, 0, want, done);
    if (bytesRead === 0) throw new CorruptImageError(what.path, `the file shrank to ${done} bytes while being read`);
    const chunk = buf.subarray(0, bytesRead);
    hash.update(chunk);
    if (onChunk) await onChunk(chunk, done);
    done += bytesRead;
    opts.onProgress?.(done, sizeBytes);
  }
  return hash.digest('hex');
}

/** Streamed sha256 of the first `sizeBytes` bytes of `file`. */
export async function hashFile(file: string, sizeBytes: number, opts: CopyOptions = {}): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    return await streamChunks(fh, sizeBytes, { operation: 'Hashing', path: file }, opts);
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await fh.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/** Writes only the runs of non-zero blocks of `chunk`, leaving zero blocks as holes. */
async function writeNonZeroRuns(fh: FileHandle, chunk: Buffer, position: number): Promise<void> {
  if (isZero(chunk)) return;
  let runStart = -1;
  for (let off = 0; off < chunk.length; off += BLOCK_BYTES) {
    const zero = isZero(chunk.subarray(off, off + BLOCK_BYTES));
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) {
      await writeAll(fh, chunk.subarray(runStart, off), position + runStart);
      runStart = -1;
    }
  }
  if (runStart >= 0) await writeAll(fh, chunk.subarray(runStart), position + runStart);
}

/**
 * Copies `src` into the new file `dst` (which must not exist), keeping holes, and flushes it to disk.
 * Returns the sha256 of everything read. On failure `dst` may be left behind; the caller removes it.
 */
export async function sparseCopy(src: string, dst: string, opts: CopyOptions = {}): Promise<{ sha256: string; sizeBytes: number }> {
  const input = await fs.open(src, 'r');
  try {
    const st = await input.stat();
    const output = await fs.open(dst, 'wx', st.mode & 0o777);
    try {
      const sha256 = await streamChunks(input, st.size, { operation: 'Copying', path: src }, opts, (chunk, position) =>
        writeNonZeroRuns(output, chunk, position),
      );
      await output.truncate(st.size);
      await output.sync();
      return { sha256, sizeBytes: st.size };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Makes a rename inside `dir` durable; some filesystems cannot fsync a directory, which is harmless. */
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
