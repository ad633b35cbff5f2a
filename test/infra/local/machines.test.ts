/**
 * Machines the agent starts belong to the machines, as real hardware would: a qemu guest is started
 * in a session of its own, so neither the agent's process group (which the stack kills on stop) nor
 * the stack's lifeline takes it along, and the agent recognises it again by its record (PID, start
 * ticks, its -name). The guest here is a stand-in with the same spawn path (startQemu).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChild } from '../../../infra/local/children';
import { processInfo } from '../../../infra/local/procs';
import { pidIsGone, tempDir } from './helpers';

const QEMU_PROCESS = fileURLToPath(new URL('../../../edge-agent/drivers/machine/qemu/process.ts', import.meta.url));

describe('a machine the agent started', () => {
  let home: { path: string; remove: () => Promise<void> };
  let guest: number | undefined;
  beforeAll(async () => {
    home = await tempDir('machines');
  });
  afterAll(async () => {
    if (guest && !pidIsGone(guest)) process.kill(guest, 'SIGKILL');
    await home.remove();
  });

  it('keeps running when the agent and its process group are killed, and is found again by its record', async () => {
    const tag = `guest-${Date.now()}`;
    const record = join(home.path, 'guest.json');
    // The agent's part: start the "qemu" through the driver's own spawn, record it, keep running.
    const agentScript = `
      import { writeFileSync } from 'node:fs';
      import { startQemu } from ${JSON.stringify(QEMU_PROCESS)};
      const proc = await startQemu(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(tag)}],
        { cwd: ${JSON.stringify(home.path)}, stderrPath: ${JSON.stringify(join(home.path, 'guest.err'))}, tag: ${JSON.stringify(tag)} });
      writeFileSync(${JSON.stringify(record)}, JSON.stringify(proc));
      setInterval(() => {}, 1000);`;
    const logFile = join(home.path, 'agent.log');
    const agent = await spawnChild({
      name: 'agent stand-in',
      command: process.execPath,
      args: ['--import', 'tsx', '--input-type=module', '-e', agentScript],
      logFile,
      ready: async () => (await readFile(record, 'utf8').catch(() => '')).includes(tag),
    });
    const proc = JSON.parse(await readFile(record, 'utf8')) as { pid: number; startTicks: string; tag: string };
    guest = proc.pid;
    const info = processInfo(proc.pid)!;
    expect(info.sid, 'the guest leads a session of its own').toBe(proc.pid);
    expect(info.pgid).not.toBe(agent.pid);

    // What the stack does to its agent on stop: SIGTERM, then SIGKILL, to the whole group.
    await agent.stop();
    expect(pidIsGone(agent.pid)).toBe(true);
    await sleep(300);
    expect(pidIsGone(proc.pid), 'the guest died with the agent').toBe(false);

    // A new agent recognises it by its record.
    const { isRunning } = (await import(QEMU_PROCESS)) as {
      isRunning: (p: typeof proc) => Promise<boolean>;
    };
    expect(await isRunning(proc)).toBe(true);
    expect(await isRunning({ ...proc, startTicks: '1' })).toBe(false);
  });
});
