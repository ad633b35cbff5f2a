/**
 * The copying loop of sparseCopy, on a worker thread: plain read(2) and write(2) calls back to back with a
 * 1 MiB buffer, as cp does. A buffer that fits the CPU cache, and no hop through the libuv thread pool per
 * call, make this several times faster here than promise-based reads and writes of large chunks; the
 * agent's event loop stays free meanwhile (progress, heartbeats, early flushes).
 */
import { Worker } from 'node:worker_threads';
import { CorruptImageError, OperationAbortedError } from './errors';
import type { Range } from './extents';

const BUFFER_BYTES = 1024 * 1024;
/** Zero detection granularity: the usual filesystem block, so holes survive even inside a buffer. */
const BLOCK_BYTES = 4096;
/** How often the worker says how far it is. */
const REPORT_BYTES = 32 * 1024 * 1024;

/**
 * Plain CommonJS run by the worker. `stop` (a shared Int32) is checked before every read, since a loop of
 * synchronous calls never lets a message in. Writes only the runs of non-zero blocks, leaving holes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { input, output, ranges, bufferBytes, blockBytes, reportBytes, stop } = workerData;
const flag = new Int32Array(stop);
const buf = Buffer.allocUnsafe(bufferBytes);
const zeros = Buffer.alloc(blockBytes);
function writeAll(from, to, position) {
  for (let at = from; at < to; ) at += fs.writeSync(output, buf, at, to - at, position + at - from);
  written += to - from;
}
function isZero(from, to) {
  return buf.compare(zeros, 0, to - from, from, to) === 0;
}
let written = 0;
let reported = 0;
let offset = 0;
try {
  for (const r of ranges) {
    for (offset = r.offset; offset < r.offset + r.length; ) {
      if (Atomics.load(flag, 0)) throw Object.assign(new Error('stopped'), { code: 'STOPPED' });
      const want = Math.min(bufferBytes, r.offset + r.length - offset);
      for (let got = 0; got < want; ) {
        const n = fs.readSync(input, buf, got, want - got, offset + got);
        if (n === 0) throw Object.assign(new Error('file shrank'), { code: 'SHRANK', at: offset + got });
        got += n;
      }
      let run = -1;
      for (let b = 0; b < want; b += blockBytes) {
        const zero = isZero(b, Math.min(b + blockBytes, want));
        if (!zero && run < 0) run = b;
        if (zero && run >= 0) {
          writeAll(run, b, offset + run);
          run = -1;
        }
      }
      if (run >= 0) writeAll(run, want, offset + run);
      offset += want;
      if (offset - reported >= reportBytes) {
        reported = offset;
        parentPort.postMessage({ offset, written });
      }
    }
  }
  parentPort.postMessage({ offset, written, finished: true });
} catch (err) {
  parentPort.postMessage({ error: { message: String(err && err.message), code: err && err.code, at: err && err.at } });
}
`;

type WorkerMessage =
  | { offset: number; written: number; finished?: boolean }
  | { error: { message: string; code?: string; at?: number } };

export interface RangeCopy {
  /** Open file descriptors: the source, and the new file, already as long as the source. */
  input: number;
  output: number;
  ranges: Range[];
  /** What failures name. */
  what: { operation: string; path: string };
  signal?: AbortSignal;
  /** The offset reached and the bytes written so far, every 32 MiB or so. */
  onCopied?: (offset: number, written: number) => void;
}

/** Copies `ranges` from `input` to `output` at the same offsets, zero blocks left as holes. */
export function copyRangesInWorker(job: RangeCopy): Promise<void> {
  const { what, signal } = job;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new OperationAbortedError(what.operation, what.path, { cause: signal.reason }));
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        input: job.input,
        output: job.output,
        ranges: job.ranges,
        bufferBytes: BUFFER_BYTES,
        blockBytes: BLOCK_BYTES,
        reportBytes: REPORT_BYTES,
        stop,
      },
    });
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    let outcome: (() => void) | undefined;
    worker.on('message', (m: WorkerMessage) => {
      if (outcome) return;
      if ('error' in m) outcome = () => reject(failure(what, m.error, signal));
      else if (m.finished) outcome = resolve;
      else job.onCopied?.(m.offset, m.written);
    });
    worker.on('error', (err) => {
      outcome ??= () => reject(err);
    });
    // Settled only once the worker is gone, so no write of it lands after the caller removed the file.
    worker.on('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      (outcome ?? (() => reject(new Error(`the copying worker for ${what.path} exited with code ${code}`))))();
    });
    worker.on('message', (m: WorkerMessage) => {
      if ('error' in m || m.finished) void worker.terminate();
    });
  });
}

function failure(
  what: { operation: string; path: string },
  error: { message: string; code?: string; at?: number },
  signal?: AbortSignal,
): Error {
  if (error.code === 'STOPPED') return new OperationAbortedError(what.operation, what.path, { cause: signal?.reason });
  if (error.code === 'SHRANK')
    return new CorruptImageError(what.path, `the file shrank to ${error.at} bytes while being read`);
  return Object.assign(new Error(`${what.operation} ${what.path} failed: ${error.message}`), { code: error.code });
}
