/**
 * The copying loop of sparseCopy, on worker threads: plain read(2) and write(2) calls back to back with a
 * 256 KiB buffer, as cp does (with 128 KiB). A buffer that fits the CPU cache, and no hop through the libuv
 * thread pool per call, make this several times faster here than promise-based reads and writes of large
 * chunks; the agent's event loop stays free meanwhile (progress, heartbeats). Starting a worker costs tens
 * of milliseconds (more on a busy host), so idle workers are kept for the next copy.
 */
import { Worker } from 'node:worker_threads';
import { CorruptImageError, OperationAbortedError } from './errors';
import type { Range } from './extents';

const BUFFER_BYTES = 256 * 1024;
/** Zero detection granularity: the usual filesystem block, so holes survive even inside a buffer. */
const BLOCK_BYTES = 4096;
/** How often the worker says how far it is. */
const REPORT_BYTES = 32 * 1024 * 1024;

/**
 * Plain CommonJS run by each worker: one copy per message, answered by progress messages and one last
 * message. `stop` (a shared Int32) is checked before every read, since a loop of synchronous calls never
 * lets a message in. Unless `keepZeros`, writes only the runs of non-zero blocks, leaving holes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { bufferBytes, blockBytes, reportBytes } = workerData;
const buf = Buffer.allocUnsafe(bufferBytes);
const zeros = Buffer.alloc(blockBytes);
function copy({ input, output, ranges, keepZeros, stop }) {
  const flag = new Int32Array(stop);
  let written = 0;
  let reported = 0;
  let offset = 0;
  const writeAll = (from, to, position) => {
    for (let at = from; at < to; ) at += fs.writeSync(output, buf, at, to - at, position + at - from);
    written += to - from;
  };
  // Most data blocks have a non-zero first or last byte: those are told apart without a call.
  const isZero = (from, to) => buf[from] === 0 && buf[to - 1] === 0 && buf.compare(zeros, 0, to - from, from, to) === 0;
  for (const r of ranges) {
    for (offset = r.offset; offset < r.offset + r.length; ) {
      if (Atomics.load(flag, 0)) throw Object.assign(new Error('stopped'), { code: 'STOPPED' });
      const want = Math.min(bufferBytes, r.offset + r.length - offset);
      for (let got = 0; got < want; ) {
        const n = fs.readSync(input, buf, got, want - got, offset + got);
        if (n === 0) throw Object.assign(new Error('file shrank'), { code: 'SHRANK', at: offset + got });
        got += n;
      }
      let run = keepZeros ? 0 : -1;
      for (let b = 0; b < want && !keepZeros; b += blockBytes) {
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
  return { offset, written };
}
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ ...copy(job), finished: true });
  } catch (err) {
    parentPort.postMessage({ error: { message: String(err && err.message), code: err && err.code, at: err && err.at } });
  }
});
`;

type WorkerMessage =
  | { offset: number; written: number; finished?: boolean }
  | { error: { message: string; code?: string; at?: number } };

export interface RangeCopy {
  /** Open file descriptors: the source, and the new file, already as long as the source. */
  input: number;
  output: number;
  ranges: Range[];
  /** Write zero blocks too (else they are left as holes). */
  keepZeros: boolean;
  /** What failures name. */
  what: { operation: string; path: string };
  signal?: AbortSignal;
  /** The offset reached and the bytes written so far, every 32 MiB or so. */
  onCopied?: (offset: number, written: number) => void;
}

/** Idle workers kept for the next copy; more copies at once start more workers. */
const MAX_IDLE = 4;
const idle: Worker[] = [];
/** What takes an idle worker off the list when it dies while idle. */
const onIdleExit = new WeakMap<Worker, () => void>();

function takeWorker(): Worker {
  const worker: Worker =
    idle.pop() ??
    new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bufferBytes: BUFFER_BYTES, blockBytes: BLOCK_BYTES, reportBytes: REPORT_BYTES },
    });
  const leave = onIdleExit.get(worker);
  if (leave) worker.off('exit', leave);
  // An idle worker must not keep the agent's process alive; a busy one must.
  worker.ref();
  return worker;
}

function giveBack(worker: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  // A worker that dies while idle is simply not there any more.
  const leave = () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  };
  onIdleExit.set(worker, leave);
  worker.once('exit', leave);
  idle.push(worker);
}

/** Copies `ranges` from `input` to `output` at the same offsets. */
export function copyRangesInWorker(job: RangeCopy): Promise<void> {
  const { what, signal } = job;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new OperationAbortedError(what.operation, what.path, { cause: signal.reason }));
    const stop = new SharedArrayBuffer(4);
    const worker = takeWorker();
    const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (reuse: boolean, outcome: () => void) => {
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reuse) giveBack(worker);
      else void worker.terminate();
      outcome();
    };
    const onMessage = (m: WorkerMessage) => {
      if ('error' in m) settle(true, () => reject(failure(what, m.error, signal)));
      else if (m.finished) settle(true, resolve);
      else job.onCopied?.(m.offset, m.written);
    };
    const onError = (err: Error) => settle(false, () => reject(err));
    const onExit = (code: number) =>
      settle(false, () => reject(new Error(`the copying worker for ${what.path} exited with code ${code}`)));
    // The worker's writes have all returned by its last message, so nothing lands after the caller removed the file.
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    const { input, output, ranges, keepZeros } = job;
    worker.postMessage({ input, output, ranges, keepZeros, stop });
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
