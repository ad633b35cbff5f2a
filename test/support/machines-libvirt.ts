/**
 * A running libvirtd for tests (qemu:///system). Without systemd, libvirtd needs the libvirt-qemu
 * user and group and its run and log directories, then `virtlogd -d` and `libvirtd -d`. Reuses daemons
 * that already answer, and stops (by PID) only the ones it started.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { requireTool } from './machines-host';

const run = promisify(execFile);

export const SYSTEM_URI = 'qemu:///system';

export interface Libvirtd {
  uri: string;
  /** Daemons this call started (empty when they were already running). */
  started: string[];
  stop(): Promise<void>;
}

const answers = () =>
  run('virsh', ['-q', '-c', SYSTEM_URI, 'version'], { timeout: 30_000 }).then(
    () => true,
    () => false,
  );

export async function ensureLibvirtd(): Promise<Libvirtd> {
  await requireTool('virsh', 'libvirt-clients');
  await requireTool('libvirtd', 'libvirt-daemon-system');
  await requireTool('qemu-system-x86_64', 'qemu-system-x86');
  if (process.getuid?.() !== 0) throw new Error('libvirt tests need root to run libvirtd with qemu:///system');
  if (await answers()) return { uri: SYSTEM_URI, started: [], stop: async () => undefined };

  await run('sh', ['-c', 'getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu']);
  await run('sh', [
    '-c',
    'getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu',
  ]);
  await fs.mkdir('/var/run/libvirt', { recursive: true });
  await fs.mkdir('/var/log/libvirt', { recursive: true });

  const pids: Record<string, number> = {};
  for (const daemon of ['virtlogd', 'libvirtd']) {
    const pidFile = `/var/run/${daemon}.pid`;
    if (await alive(pidFile)) continue;
    await fs.rm(pidFile, { force: true });
    await run(daemon, ['-d']);
    pids[daemon] = await waitForPid(pidFile);
  }
  const stop = async () => {
    // libvirtd first: it holds connections to virtlogd.
    for (const daemon of ['libvirtd', 'virtlogd']) {
      const pid = pids[daemon];
      if (pid) await terminate(pid);
    }
  };
  const deadline = Date.now() + 60_000;
  while (!(await answers())) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `libvirtd started but ${SYSTEM_URI} does not answer; see /var/log/libvirt/ and run \`libvirtd -v\` by hand`,
      );
    }
    await sleep(500);
  }
  return { uri: SYSTEM_URI, started: Object.keys(pids), stop };
}

async function alive(pidFile: string): Promise<boolean> {
  const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForPid(pidFile: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
    if (pid > 0) return pid;
    await sleep(100);
  }
  throw new Error(`${pidFile} did not appear after starting the daemon`);
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
}
