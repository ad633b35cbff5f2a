/**
 * The local stack as a process of its own (what `npm start` runs), for tests that kill it. Its
 * children are read from its record (stack.json) at each call, so a child the stack started again
 * is found under its new PID; `orphans` finds processes that mention the home but are no part of
 * the running stack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isRunning, type ProcessRef, processInfo } from '../../../infra/local/procs';
import { CHILDREN, type ChildName } from '../../../infra/local/stack';
import { Api } from '../../support/api';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Polls `probe` (each call given 5 s at most) until it returns a value. */
export async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
  everyMs = 100,
): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(everyMs)) {
    const v = await Promise.race([
      Promise.resolve()
        .then(probe)
        .catch(() => undefined),
      sleep(5000).then(() => undefined),
    ]);
    if (v !== undefined) return v;
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

/** Resolves with how long it took until none of `procs` runs any more. */
export async function allGone(procs: ProcessRef[], ms: number): Promise<number> {
  const t0 = Date.now();
  const left = () =>
    procs
      .filter((p) => isRunning(p))
      .map((p) => `${p.pid} ${processInfo(p.pid)?.state} ${processInfo(p.pid)?.argv.join(' ').slice(0, 100)}`);
  await until('every process gone', ms, () => (left().length === 0 ? true : undefined), 50).catch((e: Error) => {
    throw new Error(`${e.message}; still running: ${left().join('; ')}`);
  });
  return Date.now() - t0;
}

export interface StackProcess {
  proc: ChildProcess;
  ref: ProcessRef;
  api: Api;
  output: () => string;
  exited: Promise<number | string | null>;
  /** The children as stack.json names them now. */
  children(): Promise<Record<ChildName, ProcessRef>>;
}

export async function startStackProcess(
  home: string,
  port: number,
  env: Record<string, string> = {},
): Promise<StackProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, ENCOMPASS_HOME: home, ENCOMPASS_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  for (const s of [proc.stdout!, proc.stderr!])
    s.on('data', (c: Buffer) => {
      out += c.toString();
    });
  const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (c, sig) => resolve(c ?? sig)));
  await until('ENCOMPASS is up', 180_000, () => {
    if (proc.exitCode !== null) throw new Error(`the stack exited (${proc.exitCode}): ${out}`);
    return out.includes('ENCOMPASS is up') ? true : undefined;
  });
  const record = async () => JSON.parse(await readFile(join(home, 'stack.json'), 'utf8'));
  const first = await record();
  const token = (await readFile(join(home, 'admin-token'), 'utf8')).trim();
  return {
    proc,
    ref: { pid: first.pid, startTicks: first.startTicks, tag: 'start.ts' },
    api: new Api(`http://127.0.0.1:${port}`, token),
    output: () => out,
    exited,
    async children() {
      const { children } = await record();
      for (const name of CHILDREN) if (!children[name]) throw new Error(`stack.json names no ${name}`);
      return children;
    },
  };
}

/** Every process of the machine whose command line mentions `home`, with its parent. */
function mentioning(home: string): { pid: number; ppid: number; args: string }[] {
  const out: { pid: number; ppid: number; args: string }[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const info = processInfo(pid);
    if (!info || info.state === 'Z') continue;
    const args = info.argv.join(' ');
    if (args.includes(home)) out.push({ pid, ppid: info.ppid, args });
  }
  return out;
}

/** Processes that mention `home` but descend from no process in `roots` (none, when no stack runs). */
export function orphans(home: string, roots: number[]): string[] {
  const descends = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && p > 1 && hops < 64; hops++) {
      if (roots.includes(p)) return true;
      p = processInfo(p)?.ppid;
    }
    return false;
  };
  return mentioning(home)
    .filter((p) => !descends(p.pid))
    .map((p) => `${p.pid} (parent ${p.ppid}): ${p.args.slice(0, 160)}`);
}
