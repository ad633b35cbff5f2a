/** Starting, recognising and stopping qemu processes that outlive the agent. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemuMissingError } from './errors';

/** Names one process for good: a PID alone may be reused after the process is gone. */
export interface QemuProcess {
  pid: number;
  /** Start time in clock ticks since host boot (field 22 of /proc/PID/stat). */
  startTicks: string;
  /** An argument only this machine's qemu has (its `-name`), checked too in case the host rebooted. */
  tag: string;
}

/** Starts qemu detached (its own process group, no shell) so it keeps running when the agent restarts. */
export async function startQemu(
  binary: string,
  args: string[],
  opts: { cwd: string; stderrPath: string; tag: string },
): Promise<QemuProcess> {
  const stderr = await fs.open(opts.stderrPath, 'w', 0o600);
  try {
    const child = spawn(binary, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', 'ignore', stderr.fd] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new QemuMissingError(binary, { cause: err })));
    });
    child.unref();
    const pid = child.pid as number;
    const stat = await procStat(pid);
    // Spawn returns after exec, so the process exists; it may already have exited on bad arguments.
    return { pid, startTicks: stat?.startTicks ?? 'exited', tag: opts.tag };
  } finally {
    await stderr.close();
  }
}

async function procStat(pid: number): Promise<{ state: string; startTicks: string } | undefined> {
  try {
    const text = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTicks: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** True while the very process we started is alive (not exited, not a zombie, not a reused PID). */
export async function isRunning(proc: QemuProcess): Promise<boolean> {
  const stat = await procStat(proc.pid);
  if (stat === undefined || stat.startTicks !== proc.startTicks || stat.state === 'Z' || stat.state === 'X')
    return false;
  const argv = await fs.readFile(`/proc/${proc.pid}/cmdline`, 'utf8').catch(() => '');
  return argv.split('\0').includes(proc.tag);
}

export async function waitForExit(proc: QemuProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isRunning(proc))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

export async function signal(proc: QemuProcess, sig: NodeJS.Signals): Promise<void> {
  if (!(await isRunning(proc))) return;
  try {
    process.kill(proc.pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** qemu exits cleanly on SIGTERM (flushing its disks); SIGKILL is the last resort. Returns false if it survived both. */
export async function killQemu(proc: QemuProcess): Promise<boolean> {
  await signal(proc, 'SIGTERM');
  if (await waitForExit(proc, 5000)) return true;
  await signal(proc, 'SIGKILL');
  return waitForExit(proc, 5000);
}
