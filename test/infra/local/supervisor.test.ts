/**
 * A supervised child that dies on its own is started again after a back-off that doubles, that
 * starts over after a long run, and that keeps going while the child cannot start; a stopped one is
 * not started again until asked.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, spawnChild } from '../../../infra/local/children';
import { ChildNotRunningError } from '../../../infra/local/errors';
import { Supervisor } from '../../../infra/local/supervisor';
import { pidIsGone, tempDir } from './helpers';

const backoff = { firstMs: 100, maxMs: 400, stableMs: 60_000 };

describe('Supervisor', () => {
  let home: { path: string; remove: () => Promise<void> };
  const supervisors: Supervisor<Child>[] = [];
  beforeAll(async () => {
    home = await tempDir('supervisor');
  });
  afterAll(async () => {
    for (const s of supervisors) await s.stop();
    await home.remove();
  });

  const launcher = (name: string, script: string) => () =>
    spawnChild({
      name,
      command: process.execPath,
      args: ['-e', script],
      logFile: join(home.path, `${name}.log`),
      ready: async () => true,
    });

  async function supervise(name: string, launch: () => Promise<Child>, o: { backoff?: typeof backoff } = {}) {
    const lines: string[] = [];
    const ups: number[] = [];
    const s = await Supervisor.start({
      name,
      launch,
      log: (l) => lines.push(l),
      backoff: o.backoff ?? backoff,
      onUp: (c) => ups.push(c.pid),
    });
    supervisors.push(s);
    return { s, lines, ups };
  }

  const delays = (lines: string[]) =>
    lines
      .map((l) => /starting it again in (\d+) ms/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);

  it('starts a child killed with SIGKILL again, as a new process', async () => {
    const { s, ups, lines } = await supervise('killed', launcher('killed', 'setInterval(() => {}, 1000)'));
    const first = s.current!.pid;
    process.kill(first, 'SIGKILL');
    const second = await (async () => {
      for (let i = 0; i < 100 && ups.length < 2; i++) await sleep(50);
      return s.ready();
    })();
    expect(second.pid).not.toBe(first);
    expect(ups).toEqual([first, second.pid]);
    expect(s.restarts).toBe(1);
    expect(lines.join('\n')).toMatch(/killed \(pid \d+\) exited on its own \(killed by a signal\)/);
  });

  it('doubles the back-off with every death up to its limit', async () => {
    const { s, lines } = await supervise('crashing', launcher('crashing', 'setTimeout(() => process.exit(7), 50)'));
    for (let i = 0; i < 200 && delays(lines).length < 5; i++) await sleep(50);
    expect(delays(lines).slice(0, 5)).toEqual([100, 200, 400, 400, 400]);
    expect(lines[0]).toContain('exit code 7');
    await s.stop();
  });

  it('starts the back-off over after a run that lasted stableMs', async () => {
    const { s, lines } = await supervise('steady', launcher('steady', 'setTimeout(() => process.exit(1), 400)'), {
      backoff: { firstMs: 100, maxMs: 1000, stableMs: 300 },
    });
    for (let i = 0; i < 200 && delays(lines).length < 3; i++) await sleep(50);
    expect(delays(lines).slice(0, 3)).toEqual([100, 100, 100]);
    await s.stop();
  });

  it('keeps trying while the child cannot start again, and says so', async () => {
    let attempts = 0;
    const real = launcher('flaky', 'setInterval(() => {}, 1000)');
    const { s, lines } = await supervise('flaky', async () => {
      attempts++;
      if (attempts === 2 || attempts === 3) throw new Error(`attempt ${attempts} failed`);
      return real();
    });
    process.kill(s.current!.pid, 'SIGKILL');
    const back = await (async () => {
      for (let i = 0; i < 100 && attempts < 4; i++) await sleep(50);
      return s.ready();
    })();
    expect(attempts).toBe(4);
    expect(back.pid).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('did not start again'))).toHaveLength(2);
  });

  it('does not start a stopped child again, and ready() says it is stopped until resume()', async () => {
    const { s, ups } = await supervise('stopped', launcher('stopped', 'setInterval(() => {}, 1000)'));
    const pid = s.current!.pid;
    await s.stop();
    expect(pidIsGone(pid)).toBe(true);
    await sleep(300);
    expect(ups).toHaveLength(1);
    await expect(s.ready()).rejects.toBeInstanceOf(ChildNotRunningError);
    const again = await s.resume();
    expect(again.pid).not.toBe(pid);
    expect(s.restarts).toBe(0);
  });

  it('stopping during the back-off cancels the restart', async () => {
    const { s, ups } = await supervise('cancelled', launcher('cancelled', 'setInterval(() => {}, 1000)'), {
      backoff: { firstMs: 1000, maxMs: 1000, stableMs: 60_000 },
    });
    const child = s.current!;
    process.kill(child.pid, 'SIGKILL');
    await child.exited;
    await s.stop();
    await sleep(1300);
    expect(ups).toHaveLength(1);
    expect(s.current).toBeUndefined();
  });
});
