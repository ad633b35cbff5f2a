/** Runs the storage tools (cp, qemu-img) as child processes that an AbortSignal can stop. */
import { spawn } from 'node:child_process';
import { ToolFailedError, ToolMissingError } from '../errors';
import { OperationAbortedError } from './errors';

/** Debian package that ships each tool, for the ToolMissingError hint. */
const PACKAGE_OF: Record<string, string> = { cp: 'coreutils', 'qemu-img': 'qemu-utils' };
/** Only the tail of a tool's output is kept: error messages come last, progress output can be long. */
const OUTPUT_KEEP_CHARS = 16 * 1024;

export interface RunOptions {
  signal?: AbortSignal;
  /** Receives stdout as it arrives (e.g. progress lines); stdout is then not kept in `output`. */
  onStdout?: (text: string) => void;
  /** What the abort message names, e.g. `{ operation: 'Cloning', path: '/repo/m.img' }`. */
  what?: { operation: string; path: string };
  /** The child's environment (default: the agent's). */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  exitCode: number;
  /** stdout (unless streamed to onStdout) and stderr, trimmed, at most the last 16 KiB. */
  output: string;
}

function keepTail(text: string): string {
  return text.length > OUTPUT_KEEP_CHARS ? text.slice(-OUTPUT_KEEP_CHARS) : text;
}

/**
 * Runs `cmd` to completion and resolves with its exit code and output whatever the code; rejects with
 * ToolMissingError when the program is not installed and OperationAbortedError when aborted (the child
 * is killed and has exited by then, so its output file can be removed safely).
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const what = opts.what ?? { operation: `Running ${cmd}`, path: args.at(-1) ?? '' };
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted)
      return reject(new OperationAbortedError(what.operation, what.path, { cause: opts.signal.reason }));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let output = '';
    const kill = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (opts.onStdout) opts.onStdout(text);
      else output = keepTail(output + text);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      output = keepTail(output + text);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', kill);
      if (err.code === 'ENOENT') reject(new ToolMissingError(cmd, PACKAGE_OF[cmd] ?? cmd, { cause: err }));
      else reject(err);
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', kill);
      if (opts.signal?.aborted)
        return reject(new OperationAbortedError(what.operation, what.path, { cause: opts.signal.reason }));
      resolve({ exitCode: code ?? (signal ? 128 : 1), output: output.trim() });
    });
  });
}

/** Like `run`, but a non-zero exit is a ToolFailedError. */
export async function runChecked(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.exitCode !== 0) throw new ToolFailedError(cmd, result.output, { args, exitCode: result.exitCode });
  return result;
}
