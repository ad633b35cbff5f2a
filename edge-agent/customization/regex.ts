/**
 * Regular-expression replacement in a worker thread with a time limit: a catastrophic pattern
 * (e.g. `(a+)+$`) is stopped by terminating the worker instead of freezing the agent. Workers that
 * answered in time are kept for the next replacement.
 */
import { Worker } from 'node:worker_threads';
import { RegexFailedError, RegexTimeoutError } from './errors';

export const DEFAULT_REGEX_TIMEOUT_MS = 2000;

/** Workers kept warm for the next replacement: starting one costs milliseconds, a round trip far less. */
const MAX_IDLE_WORKERS = 2;
const idle: Worker[] = [];

// Plain JavaScript evaluated in the worker, so it runs the same under tsx, vitest and a bundle. A
// worker serves one replacement at a time, then waits for the next.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ text, pattern, flags, replacement }) => {
  let answer;
  try {
    answer = { result: text.replace(new RegExp(pattern, flags), replacement) };
  } catch (e) {
    answer = { error: String((e && e.message) || e) };
  }
  parentPort.postMessage(answer);
});
`;

export interface Replacement {
  /** Index of the item, for error messages. */
  index: number;
  pattern: string;
  flags: string;
  /** A String.prototype.replace template: `$1`, `$&`, `$$` keep their meaning. */
  replacement: string;
}

/**
 * Replaces in `content` (bytes). Valid UTF-8 is edited as text; anything else as Latin-1, which maps
 * each byte to one character, so bytes outside the matches come back unchanged either way.
 */
export async function replaceInContent(
  content: Buffer,
  r: Replacement,
  timeoutMs = DEFAULT_REGEX_TIMEOUT_MS,
): Promise<Buffer> {
  const encoding: BufferEncoding = Buffer.from(content.toString('utf8'), 'utf8').equals(content) ? 'utf8' : 'latin1';
  const replaced = await replaceInWorker(content.toString(encoding), r, timeoutMs);
  return Buffer.from(replaced, encoding);
}

export function replaceInWorker(text: string, r: Replacement, timeoutMs: number): Promise<string> {
  const worker =
    idle.pop() ?? new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  worker.ref();
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
      if (reusable && idle.length < MAX_IDLE_WORKERS) {
        // An idle worker must not keep the agent (or a test run) from exiting.
        worker.unref();
        idle.push(worker);
      } else void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new RegexTimeoutError(r.index, r.pattern, timeoutMs)), false),
      timeoutMs,
    );
    worker.once('message', (answer: { result?: string; error?: string }) =>
      settle(
        () =>
          answer.error === undefined
            ? resolve(answer.result!)
            : reject(new RegexFailedError(r.index, r.pattern, answer.error)),
        true,
      ),
    );
    worker.once('error', (error) =>
      settle(() => reject(new RegexFailedError(r.index, r.pattern, error.message, { cause: error })), false),
    );
    worker.once('exit', (code) =>
      settle(
        () => reject(new RegexFailedError(r.index, r.pattern, `the worker stopped with code ${code} before answering`)),
        false,
      ),
    );
    worker.postMessage({ text, pattern: r.pattern, flags: r.flags, replacement: r.replacement });
  });
}
