/**
 * The stack's long-running children. Each leads its own process group (stopped as a group, out of
 * reach of the terminal's Ctrl-C, which the stack handles in order) and is tied to the stack's life
 * by a lifeline, so that no child outlives the stack however it ends, SIGKILL included:
 * - `stdin`: the child's stdin is a pipe the stack holds and never writes; the kernel closes it when
 *   the stack dies, and the child (told by `ENCOMPASS_LIFELINE=stdin`) exits on its EOF;
 * - `deathsig`: for a program that cannot watch a pipe (java), `setpriv --pdeathsig SIGTERM` has the
 *   kernel send it SIGTERM when the stack dies.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildReadyTimeoutError, ChildStartError } from './errors';

export type Lifeline = 'stdin' | 'deathsig';

/** The exec wrapper that sets the parent-death signal (util-linux; see prereqs.ts). */
const DEATHSIG_WRAPPER = ['setpriv', '--pdeathsig', 'SIGTERM'] as const;

export interface Child {
  name: string;
  pid: number;
  /** SIGTERM to the child's process group, SIGKILL after the grace period; resolves once it is gone. */
  stop(): Promise<void>;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

export interface SpawnChildOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Polled until it returns true; a throw counts as "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Called when the child exits without stop() having been asked for, after it was ready. */
  onExit?: (code: number | null) => void;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Opens a Node IPC channel to the child; each message it sends arrives here. */
  onMessage?: (message: unknown) => void;
  /** How the child learns that the stack is gone (default `stdin`). */
  lifeline?: Lifeline;
  /** The umask the child starts with (e.g. 0o077: the files it creates are the user's alone). */
  umask?: number;
}

const POLL_MS = 100;
/** Running children by pid. */
const live = new Map<number, Child>();
let exitHookInstalled = false;

/** Spawns a long-running child in its own process group and resolves once `ready()` says so. */
export async function spawnChild(o: SpawnChildOptions): Promise<Child> {
  mkdirSync(dirname(o.logFile), { recursive: true, mode: 0o700 });
  const lifeline = o.lifeline ?? 'stdin';
  const [command, args] =
    lifeline === 'deathsig'
      ? [DEATHSIG_WRAPPER[0], [...DEATHSIG_WRAPPER.slice(1), o.command, ...o.args]]
      : [o.command, o.args];
  const fd = openSync(o.logFile, 'a', 0o600);
  fchmodSync(fd, 0o600);
  writeSync(fd, `--- ${new Date().toISOString()} starting ${o.name}: ${o.command} ${o.args.join(' ')}\n`);
  const stdio: StdioOptions = ['pipe', fd, fd];
  if (o.onMessage) stdio.push('ipc');
  const env = { ...(o.env ?? process.env), ...(lifeline === 'stdin' ? { ENCOMPASS_LIFELINE: 'stdin' } : {}) };
  let proc: ChildProcess;
  // The child takes the umask at fork, which spawn() does before it returns.
  const umask = o.umask === undefined ? undefined : process.umask(o.umask);
  try {
    proc = spawn(command, args, { cwd: o.cwd, env, stdio, detached: true });
  } finally {
    if (umask !== undefined) process.umask(umask);
    closeSync(fd);
  }
  // The lifeline: held open, never written, and not keeping this process alive by itself.
  const line = proc.stdin as Socket | null;
  line?.on('error', () => undefined);
  line?.unref();
  if (o.onMessage) proc.on('message', o.onMessage);

  let stopRequested = false;
  let isReady = false;
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    // A spawn failure (e.g. ENOENT) emits 'error' and no 'exit'.
    proc.once('error', () => {
      if (proc.pid === undefined) resolve(null);
    });
  });
  const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
  void exited.then((code) => {
    hasExited = true;
    line?.destroy();
    if (proc.pid !== undefined) {
      live.delete(proc.pid);
      // What the child left in its group (its own children) goes with it.
      if (!stopRequested) killGroup(proc.pid, 'SIGKILL');
    }
    if (isReady && !stopRequested) o.onExit?.(code);
  });

  const pid = proc.pid;
  if (pid === undefined) {
    const cause = await spawnError;
    throw new ChildStartError(o.name, null, o.logFile, String(cause), { cause });
  }

  let stopping: Promise<void> | undefined;
  const child: Child = {
    name: o.name,
    pid,
    exited,
    stop() {
      stopRequested = true;
      stopping ??= stopGroup(pid, exited, () => hasExited, o.stopGraceMs ?? 5000);
      return stopping;
    },
  };
  live.set(pid, child);
  installExitHook();

  const timeoutMs = o.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  while (!hasExited) {
    const left = deadline - Date.now();
    if (left <= 0) {
      await child.stop();
      throw new ChildReadyTimeoutError(o.name, timeoutMs, o.logFile, logTail(o.logFile));
    }
    if (await probe(o.ready, left)) {
      // The probe may have raced a crash: only a still-running child counts as ready.
      if (!hasExited) {
        isReady = true;
        return child;
      }
      break;
    }
    await Promise.race([sleep(POLL_MS), exited]);
  }
  const code = await exited;
  killGroup(pid, 'SIGKILL');
  throw new ChildStartError(o.name, code, o.logFile, logTail(o.logFile));
}

/** Stops every child this process started and has not stopped yet (for a signal handler). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live.values()].map((child) => child.stop()));
}

async function stopGroup(
  pid: number,
  exited: Promise<number | null>,
  hasExited: () => boolean,
  graceMs: number,
): Promise<void> {
  if (!hasExited()) {
    killGroup(pid, 'SIGTERM');
    const timer = sleep(graceMs, undefined, { ref: false }).then(() => 'timeout' as const);
    if ((await Promise.race([exited, timer])) === 'timeout') killGroup(pid, 'SIGKILL');
    await exited;
  }
  // Grandchildren left in the group go too.
  killGroup(pid, 'SIGKILL');
}

async function probe(ready: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => false);
  try {
    return await Promise.race([ready().catch(() => false), timer]);
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

/** Children live in their own process groups, so a parent that exits must take them along itself. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
  });
}

/** The last lines of a log that may have grown large over many runs. */
function logTail(logFile: string, lines = 20, maxBytes = 8192): string {
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, maxBytes));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '(log file unreadable)';
  }
}
