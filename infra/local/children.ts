import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildReadyTimeoutError, ChildStartError } from './errors';

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
}

const POLL_MS = 100;
/** Running children by pid. */
const live = new Map<number, Child>();
let exitHookInstalled = false;

/** Spawns a long-running child in its own process group and resolves once `ready()` says so. */
export async function spawnChild(o: SpawnChildOptions): Promise<Child> {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, 'a');
  writeSync(fd, `--- ${new Date().toISOString()} starting ${o.name}: ${o.command} ${o.args.join(' ')}\n`);
  const stdio: StdioOptions = ['ignore', fd, fd];
  if (o.onMessage) stdio.push('ipc');
  let proc: ChildProcess;
  try {
    proc = spawn(o.command, o.args, { cwd: o.cwd, env: o.env ?? process.env, stdio, detached: true });
  } finally {
    closeSync(fd);
  }
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
    if (proc.pid !== undefined) live.delete(proc.pid);
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
