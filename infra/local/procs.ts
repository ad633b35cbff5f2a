/**
 * Processes named for good, by /proc: a PID alone may be reused once its process is gone, so a
 * recorded process is its PID, its start time in clock ticks since boot and a word of its command
 * line, and it is signalled only while all three still match.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/PID/stat. */
  startTicks: string;
  /** A word its command line holds (an argument only that process has, or its program). */
  tag: string;
}

export interface ProcessInfo {
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  startTicks: string;
  argv: string[];
}

/** What /proc says of `pid`, or undefined when there is no such process. */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return {
      state: f[0] ?? '',
      ppid: Number(f[1]),
      pgid: Number(f[2]),
      sid: Number(f[3]),
      startTicks: f[19] ?? '',
      argv,
    };
  } catch {
    return undefined;
  }
}

/** The reference of a running process, to record now and recognise later; undefined if it is gone. */
export function refOf(pid: number, tag: string): ProcessRef | undefined {
  const info = processInfo(pid);
  return info ? { pid, startTicks: info.startTicks, tag } : undefined;
}

/** True while the very process recorded runs: same start time, its tag in its command line, not a zombie. */
export function isRunning(ref: ProcessRef): boolean {
  const info = processInfo(ref.pid);
  if (!info || info.startTicks !== ref.startTicks || info.state === 'Z' || info.state === 'X') return false;
  return info.argv.some((a) => a.includes(ref.tag));
}

export function pidIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // ESRCH: gone already.
  }
}

/**
 * Stops a recorded process that may not be ours to wait for (a leftover of a killed stack): SIGTERM
 * (and SIGCONT, in case it was stopped) to its process group when it leads one, else to it; SIGKILL
 * after `graceMs`. Resolves true once it is gone, false if it survived both.
 */
export async function stopRecorded(ref: ProcessRef, graceMs: number): Promise<boolean> {
  if (!isRunning(ref)) return true;
  const leader = processInfo(ref.pid)?.pgid === ref.pid;
  const target = leader ? -ref.pid : ref.pid;
  signal(target, 'SIGTERM');
  signal(target, 'SIGCONT');
  if (await waitGone(ref, graceMs)) return true;
  signal(target, 'SIGKILL');
  return waitGone(ref, 5000);
}

export async function waitGone(ref: ProcessRef, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (isRunning(ref)) {
    if (Date.now() >= until) return false;
    await sleep(50);
  }
  return true;
}
