/**
 * Regular-expression replacement in a worker thread with a time limit: a catastrophic pattern
 * (e.g. `(a+)+$`) is stopped by terminating the worker instead of freezing the agent.
 */
import { Worker } from 'node:worker_threads';
import { RegexFailedError, RegexTimeoutError } from './errors';

export const DEFAULT_REGEX_TIMEOUT_MS = 2000;

// Plain JavaScript evaluated in the worker, so it runs the same under tsx, vitest and a bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { text, pattern, flags, replacement } = workerData;
parentPort.postMessage(text.replace(new RegExp(pattern, flags), replacement));
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
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { text, pattern: r.pattern, flags: r.flags, replacement: r.replacement },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new RegexTimeoutError(r.index, r.pattern, timeoutMs))),
      timeoutMs,
    );
    worker.once('message', (result: string) => settle(() => resolve(result)));
    worker.once('error', (error) =>
      settle(() => reject(new RegexFailedError(r.index, r.pattern, error.message, { cause: error }))),
    );
    worker.once('exit', (code) =>
      settle(() =>
        reject(new RegexFailedError(r.index, r.pattern, `the worker stopped with code ${code} before answering`)),
      ),
    );
  });
}
