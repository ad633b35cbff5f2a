/**
 * sha256 of an image, computed on a worker thread: hashing is the costliest part of a copy (a single core
 * hashes ~1.3 GB/s here), so it runs beside the copying instead of between its reads and writes, and the
 * agent's event loop stays free meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { CorruptImageError, OperationAbortedError } from './errors';
import type { Range } from './extents';
import type { CopyOptions } from './interface';

const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Plain CommonJS run by the worker: reads one chunk ahead of the hashing, posts progress per chunk, and
 * stops at the next chunk when told to. It closes the file before its last message, so once that message
 * arrives nothing holds the file open (a terminated worker might keep it open a while longer).
 */
const WORKER_SOURCE = `
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { file, sizeBytes, chunkBytes, ranges } = workerData;
const zeros = Buffer.alloc(chunkBytes);
let done = 0;
let stopped = false;
parentPort.on('message', () => { stopped = true; });
// Every chunk of the file in order: those in ranges (all when there are none) are read, the rest are holes.
function* chunks() {
  const data = ranges || [{ offset: 0, length: sizeBytes }];
  let at = 0;
  for (const r of [...data, { offset: sizeBytes, length: 0 }]) {
    for (; at < r.offset; at += Math.min(chunkBytes, r.offset - at)) yield { at, length: Math.min(chunkBytes, r.offset - at), hole: true };
    for (const end = r.offset + r.length; at < end; at += Math.min(chunkBytes, end - at)) yield { at, length: Math.min(chunkBytes, end - at), hole: false };
  }
}
async function main() {
  const fh = await fs.promises.open(file, 'r');
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
    const it = chunks();
    let index = 0;
    const next = () => {
      const c = it.next();
      if (c.done) return null;
      if (c.value.hole) return Promise.resolve({ bytesRead: c.value.length, buffer: zeros, want: c.value.length });
      const p = fh.read(buffers[index++ % 2], 0, c.value.length, c.value.at).then((r) => ({ ...r, want: c.value.length }));
      p.catch(() => {});
      return p;
    };
    let pending = next();
    try {
      while (pending) {
        const { bytesRead, buffer, want } = await pending;
        // Holes resolve at once, so a run of them never yields to the event loop: look for the stop here too.
        if (stopped || receiveMessageOnPort(parentPort)) throw Object.assign(new Error('stopped'), { code: 'STOPPED' });
        if (bytesRead < want) throw Object.assign(new Error('file shrank'), { code: 'SHRANK' });
        const chunk = buffer.subarray(0, bytesRead);
        done += bytesRead;
        pending = next();
        hash.update(chunk);
        parentPort.postMessage({ done });
      }
    } finally {
      await pending?.catch(() => {});
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}
main().then(
  (sha256) => parentPort.postMessage({ sha256 }),
  (err) => parentPort.postMessage({ error: { message: String(err && err.message), code: err && err.code, done } }),
);
`;

type WorkerMessage =
  | { done: number }
  | { sha256: string }
  | { error: { message: string; code?: string; done: number } };

function failure(file: string, error: { message: string; code?: string; done: number }): Error {
  if (error.code === 'SHRANK')
    return new CorruptImageError(file, `the file shrank to ${error.done} bytes while being read`);
  return Object.assign(new Error(`Reading ${file} failed: ${error.message}`), { code: error.code });
}

export interface HashOptions extends CopyOptions {
  /** Where `file` holds data (extents.ts), in order; the rest is hashed as zeros without being read. */
  ranges?: Range[];
}

/** sha256 of the first `sizeBytes` bytes of `file`, with progress in bytes hashed. */
export function hashFile(file: string, sizeBytes: number, opts: HashOptions = {}): Promise<string> {
  const { signal, onProgress } = opts;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new OperationAbortedError('Hashing', file, { cause: signal.reason }));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, sizeBytes, chunkBytes: CHUNK_BYTES, ranges: opts.ranges ?? null },
    });
    const onAbort = () => worker.postMessage('stop');
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (outcome: () => void) => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    onProgress?.(0, sizeBytes);
    worker.on('message', (m: WorkerMessage) => {
      if (settled) return;
      if ('done' in m) onProgress?.(m.done, sizeBytes);
      else if ('sha256' in m) settle(() => resolve(m.sha256));
      else if (m.error.code === 'STOPPED')
        settle(() => reject(new OperationAbortedError('Hashing', file, { cause: signal?.reason })));
      else settle(() => reject(failure(file, m.error)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    // Settled already in every normal case; this catches a worker that died without a word.
    worker.on('exit', (code) => reject(new Error(`the hashing worker for ${file} exited with code ${code}`)));
  });
}
