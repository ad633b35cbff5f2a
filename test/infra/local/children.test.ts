import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawnChild } from '../../../infra/local/children';
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
