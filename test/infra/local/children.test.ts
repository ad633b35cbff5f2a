import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Lifeline, spawnChild } from '../../../infra/local/children';
import { ChildReadyTimeoutError, ChildStartError } from '../../../infra/local/errors';
import { pidIsGone, tempDir } from './helpers';

const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const ready = async () => true;

describe('spawnChild', () => {
  let home: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    home = await tempDir('children');
  });
  afterAll(() => home.remove());

  it('writes the child output to its log file', async () => {
    const logFile = join(home.path, 'logs', 'echo.log');
    const child = await spawnChild({
      name: 'echo',
      ...node('console.log("hello from the child"); setInterval(() => {}, 1000)'),
      logFile,
      ready: async () => (await readFile(logFile, 'utf8')).includes('hello from the child'),
    });
    await child.stop();
    expect(await readFile(logFile, 'utf8')).toContain('hello from the child');
  });

  it('calls onExit when a ready child dies on its own, but not when it is stopped', async () => {
    const onExit = vi.fn();
    await spawnChild({
      name: 'short',
      ...node('setTimeout(() => process.exit(3), 300)'),
      logFile: join(home.path, 'a.log'),
      ready,
      onExit,
    });
    await vi.waitFor(() => expect(onExit).toHaveBeenCalledWith(3));
    const quiet = vi.fn();
    const child = await spawnChild({
      name: 'long',
      ...node('setInterval(() => {}, 1000)'),
      logFile: join(home.path, 'b.log'),
      ready,
      onExit: quiet,
    });
    await child.stop();
    expect(quiet).not.toHaveBeenCalled();
  });

  it('fails with the log tail when the child exits before it is ready', async () => {
    const start = spawnChild({
      name: 'broken',
      ...node('console.error("cannot open the database"); process.exit(2)'),
      logFile: join(home.path, 'broken.log'),
      ready: async () => false,
    });
    await expect(start).rejects.toBeInstanceOf(ChildStartError);
    await expect(start).rejects.toMatchObject({ code: 'child_start_failed', exitCode: 2 });
    await expect(start).rejects.toThrow(/cannot open the database/);
  });

  it('fails when the command does not exist', async () => {
    const start = spawnChild({
      name: 'ghost',
      command: 'no-such-command-here',
      args: [],
      logFile: join(home.path, 'g.log'),
      ready,
    });
    await expect(start).rejects.toBeInstanceOf(ChildStartError);
  });

  it('stops a child that never becomes ready and says so', async () => {
    const start = spawnChild({
      name: 'slow',
      ...node('console.log("pid " + process.pid); setInterval(() => {}, 1000)'),
      logFile: join(home.path, 'slow.log'),
      readyTimeoutMs: 500,
      ready: async () => false,
    });
    await expect(start).rejects.toBeInstanceOf(ChildReadyTimeoutError);
    const log = await readFile(join(home.path, 'slow.log'), 'utf8');
    const pid = Number(/pid (\d+)/.exec(log)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(pidIsGone(pid)).toBe(true);
  });

  it('kills a child that ignores SIGTERM, and its whole process group, after the grace period', async () => {
    const script = `
      process.on('SIGTERM', () => {});
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('grandchild ' + grandchild.pid);
      setInterval(() => {}, 1000);
    `;
    const logFile = join(home.path, 'stubborn.log');
    const child = await spawnChild({
      name: 'stubborn',
      ...node(script),
      logFile,
      stopGraceMs: 300,
      ready: async () => /grandchild \d+/.test(await readFile(logFile, 'utf8')),
    });
    const grandchild = Number(/grandchild (\d+)/.exec(await readFile(logFile, 'utf8'))?.[1]);
    expect(pidIsGone(grandchild)).toBe(false);
    await child.stop();
    expect(await child.exited).toBeNull();
    expect(pidIsGone(child.pid)).toBe(true);
    // Killed with its group; on a loaded machine the reaper may take a moment to collect it.
    for (const until = Date.now() + 5000; !pidIsGone(grandchild) && Date.now() < until; ) await sleep(50);
    expect(pidIsGone(grandchild)).toBe(true);
  });
});

const CHILDREN = fileURLToPath(new URL('../../../infra/local/children.ts', import.meta.url));

/**
 * A parent process that starts `script` through spawnChild with `lifeline` and prints the child's PID;
 * the test then kills the parent as the stack might be killed.
 */
async function parentOf(script: string, lifeline: Lifeline, logFile: string) {
  const source = `
    import { spawnChild } from ${JSON.stringify(CHILDREN)};
    const child = await spawnChild({ name: 'lifeline', command: process.execPath, args: ['-e', ${JSON.stringify(script)}],
      logFile: ${JSON.stringify(logFile)}, lifeline: ${JSON.stringify(lifeline)}, ready: async () => true });
    console.log('child ' + child.pid);
    setInterval(() => {}, 1000);`;
  const parent: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  parent.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  for (const end = Date.now() + 30_000; !/child \d+/.test(out) && Date.now() < end; ) await sleep(50);
  const child = Number(/child (\d+)/.exec(out)?.[1]);
  expect(child, `the parent said: ${out}`).toBeGreaterThan(0);
  return { parent, child };
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (pidIsGone(pid)) return true;
  return false;
}

describe('the lifeline between the stack and a child', () => {
  let home: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    home = await tempDir('lifeline');
  });
  afterAll(() => home.remove());

  it('closes the stdin of a child when its parent is killed with SIGKILL, and the child says it saw EOF', async () => {
    const logFile = join(home.path, 'stdin.log');
    const script = `
      if (process.env.ENCOMPASS_LIFELINE !== 'stdin') { console.log('no lifeline'); process.exit(3); }
      process.stdin.on('end', () => { console.log('lifeline closed'); process.exit(0); });
      process.stdin.resume();
      setInterval(() => {}, 1000);`;
    const { parent, child } = await parentOf(script, 'stdin', logFile);
    expect(pidIsGone(child)).toBe(false);
    parent.kill('SIGKILL');
    expect(await goneWithin(child, 5000)).toBe(true);
    expect(await readFile(logFile, 'utf8')).toContain('lifeline closed');
  });

  it('has the kernel send SIGTERM to a deathsig child (one that cannot watch a pipe) when its parent is killed', async () => {
    const logFile = join(home.path, 'deathsig.log');
    const script = `
      process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
      setInterval(() => {}, 1000);`;
    const { parent, child } = await parentOf(script, 'deathsig', logFile);
    await sleep(200);
    expect(pidIsGone(child)).toBe(false);
    parent.kill('SIGKILL');
    expect(await goneWithin(child, 5000)).toBe(true);
    expect(await readFile(logFile, 'utf8')).toContain('got SIGTERM');
  });

  it('makes the log file and, with umask 0o077, what the child writes readable by the user alone', async () => {
    const logFile = join(home.path, 'private/umask.log');
    const file = join(home.path, 'private/written');
    const child = await spawnChild({
      name: 'umask',
      ...node(`require('node:fs').writeFileSync(${JSON.stringify(file)}, 'x'); setInterval(() => {}, 1000)`),
      logFile,
      umask: 0o077,
      ready: async () => (await stat(file).catch(() => undefined)) !== undefined,
    });
    await child.stop();
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home.path, 'private'))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
