/**
 * One stack per home: a second holder is refused with the PID of the first; a holder that dies, by
 * SIGKILL too, frees the home; and the record a killed stack left is taken over, stopping what it
 * left running only when it is really that process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StackAlreadyRunningError } from '../../../infra/local/errors';
import { HomeLock, RECORD_FILE, type RunRecord } from '../../../infra/local/lock';
import { isRunning, processInfo, refOf } from '../../../infra/local/procs';
import { pidIsGone, tempDir } from './helpers';

const LOCK = fileURLToPath(new URL('../../../infra/local/lock.ts', import.meta.url));

/** Another process that takes the home and reports what happened on its stdout. */
function holder(home: string): { proc: ChildProcess; said: (text: string) => Promise<string> } {
  const script = `
    import { HomeLock } from ${JSON.stringify(LOCK)};
    try { await HomeLock.acquire(${JSON.stringify(home)}, () => {}); console.log('locked'); setInterval(() => {}, 1000); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(1); }`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const said = async (text: string) => {
    for (const end = Date.now() + 30_000; Date.now() < end; await sleep(50)) if (out.includes(text)) return out;
    throw new Error(`the holder never said ${text}; it said: ${out}`);
  };
  return { proc, said };
}

/** A long-running process carrying `tag` in its command line, in a process group of its own. */
function sleeper(tag: string): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', tag], { stdio: 'ignore', detached: true });
}

async function gone(pid: number, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (pidIsGone(pid)) return true;
  return false;
}

describe('the home lock', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await tempDir('lock');
  });
  afterAll(async () => {
    for (const p of procs) if (p.pid && !pidIsGone(p.pid)) process.kill(p.pid, 'SIGKILL');
    await dir.remove();
  });

  it('refuses a second stack on the home, naming the PID that holds it, and frees it on release', async () => {
    const lock = await HomeLock.acquire(dir.path, () => {});
    const other = holder(dir.path);
    procs.push(other.proc);
    const said = JSON.parse(await other.said('stack_already_running')) as { message: string };
    expect(said.message).toContain(`PID ${process.pid}`);
    expect(said.message).toContain(dir.path);
    await expect(HomeLock.acquire(dir.path, () => {})).rejects.toBeInstanceOf(StackAlreadyRunningError);
    expect(existsSync(join(dir.path, RECORD_FILE))).toBe(true);
    await lock.release();
    expect(existsSync(join(dir.path, RECORD_FILE))).toBe(false);
    await (await HomeLock.acquire(dir.path, () => {})).release();
  });

  it('is free again once its holder is killed with SIGKILL', async () => {
    const other = holder(dir.path);
    procs.push(other.proc);
    await other.said('locked');
    other.proc.kill('SIGKILL');
    expect(await gone(other.proc.pid!)).toBe(true);
    const lines: string[] = [];
    const lock = await HomeLock.acquire(dir.path, (l) => lines.push(l));
    expect(lines.join('\n')).toContain(`taking over ${dir.path} from stack PID ${other.proc.pid}`);
    await lock.release();
  });

  it('stops the children a killed stack left running, a stopped one too, and leaves a PID now used by another process alone', async () => {
    const leftover = sleeper(`leftover-${dir.path}`);
    const unrelated = sleeper('unrelated');
    procs.push(leftover, unrelated);
    await sleep(300);
    // Hung: a SIGTERM alone would stay pending.
    process.kill(leftover.pid!, 'SIGSTOP');
    const leftoverRef = refOf(leftover.pid!, `leftover-${dir.path}`)!;
    const stale: RunRecord = {
      pid: 999_999,
      startTicks: '1',
      startedAt: new Date().toISOString(),
      children: {
        'DynamoDB Local': leftoverRef,
        // The recorded process is gone and its PID now names another one: another start time.
        'S3 server': { pid: unrelated.pid!, startTicks: '1', tag: 'unrelated' },
      },
    };
    await writeFile(join(dir.path, RECORD_FILE), JSON.stringify(stale));
    const lines: string[] = [];
    const lock = await HomeLock.acquire(dir.path, (l) => lines.push(l));
    expect(isRunning(leftoverRef)).toBe(false);
    expect(await gone(leftover.pid!)).toBe(true);
    expect(processInfo(unrelated.pid!)?.state).not.toBe('Z');
    expect(pidIsGone(unrelated.pid!)).toBe(false);
    expect(lines.join('\n')).toContain(`DynamoDB Local (PID ${leftover.pid})`);
    expect(lines.join('\n')).not.toContain('S3 server');
    await lock.release();
  });
});
