/** Progress and failure handling for two halves of one job running at once (copying and hashing). */
import { OperationAbortedError } from './errors';
import type { ProgressFn } from './interface';

/**
 * One monotonic progress figure out of `total` from two fractions: the job is as far as its slower half.
 * The first half is capped below 1 until `finish`, since its measure can overshoot (preallocated blocks).
 */
export function twoPartProgress(total: number, onProgress: ProgressFn | undefined) {
  let first = 0;
  let second = 0;
  let reported = -1;
  const report = () => {
    const done = Math.floor(Math.min(first, second) * total);
    // Late measurements (a poll answered after finish) must not make progress go backwards.
    if (done <= reported) return;
    reported = done;
    onProgress?.(done, total);
  };
  report();
  return {
    first: (fraction: number) => {
      first = Math.min(0.99, fraction);
      report();
    },
    second: (fraction: number) => {
      second = fraction;
      report();
    },
    finish: () => {
      reported = total;
      onProgress?.(total, total);
    },
  };
}

/**
 * Runs `a` and `b` at once. When either fails the other is stopped through its signal, and both have
 * finished before this settles (so no child process still writes a file the caller is about to remove).
 * Rejects with the first failure, or OperationAbortedError when `signal` aborted.
 */
export async function runPair<A, B>(
  signal: AbortSignal | undefined,
  what: { operation: string; path: string },
  a: (signal: AbortSignal) => Promise<A>,
  b: (signal: AbortSignal) => Promise<B>,
): Promise<[A, B]> {
  const inner = new AbortController();
  const stopBoth = () => inner.abort(signal?.reason);
  if (signal?.aborted) stopBoth();
  signal?.addEventListener('abort', stopBoth, { once: true });
  let firstFailure: unknown;
  const stopOnFailure = (err: unknown): never => {
    firstFailure ??= err;
    inner.abort(err);
    throw err;
  };
  try {
    const [ra, rb] = await Promise.allSettled([
      a(inner.signal).catch(stopOnFailure),
      b(inner.signal).catch(stopOnFailure),
    ]);
    if (signal?.aborted) throw new OperationAbortedError(what.operation, what.path, { cause: signal.reason });
    if (ra.status === 'rejected' || rb.status === 'rejected') throw firstFailure;
    return [ra.value, rb.value];
  } finally {
    signal?.removeEventListener('abort', stopBoth);
  }
}
