/**
 * Finding, and when a repository asks for it, starting and stopping the tgtd that serves its portal.
 * tgtd ignores SIGTERM and only stops on `tgtadm --op delete --mode system`, which it refuses while
 * targets exist. When it cannot bind the asked portal it keeps running on 0.0.0.0:3260 instead, so a
 * started tgtd is only accepted once it is seen serving exactly the asked portal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import { ToolMissingError } from '../../errors';
import { PortalNotServedError, TargetStartError, TargetUnreachableError } from './errors';
import type { IscsiSettings } from './settings';
import { Tgtadm } from './tgtadm';

const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
const POLL_MS = 50;
const LOG_TAIL_CHARS = 2_000;
const CONTROL_SOCKET_DIR = '/var/run/tgtd';

interface Managed {
  child: ChildProcess;
  portal: string;
  log: string;
  exited: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TgtdSupervisor {
  private readonly managed = new Map<number, Managed>();

  /** Checks that a tgtd serves the repository's portal, starting one when the settings ask for that. */
  async ensure(s: IscsiSettings): Promise<Tgtadm> {
    const tgtadm = new Tgtadm(s.controlPort);
    const served = await tgtadm.portals().catch((err) => {
      if (err instanceof TargetUnreachableError && s.manageTarget) return null;
      throw err;
    });
    if (served === null) await this.start(s, tgtadm);
    else if (!served.includes(s.portal)) throw new PortalNotServedError(s.controlPort, s.portal, served);
    return tgtadm;
  }

  /** PID of the tgtd this supervisor started for `controlPort`, if it still runs. */
  pid(controlPort: number): number | undefined {
    return this.managed.get(controlPort)?.child.pid;
  }

  /** Stops the tgtd started for `controlPort`, deleting its targets (and ending any sessions) first. */
  async stop(controlPort: number): Promise<void> {
    const m = this.managed.get(controlPort);
    if (!m) return;
    const tgtadm = new Tgtadm(controlPort);
    try {
      for (const t of await tgtadm.showTargets()) await tgtadm.deleteTarget(t.tid, true);
      await tgtadm.deleteSystem();
    } catch {
      // Already gone or wedged: the kill below settles it either way.
    }
    if (!(await Promise.race([m.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]))) {
      m.child.kill('SIGKILL');
      await m.exited;
    }
    await removeControlSocket(controlPort);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.managed.keys()].map((port) => this.stop(port)));
  }

  private async start(s: IscsiSettings, tgtadm: Tgtadm): Promise<void> {
    const args = ['-f', '--iscsi', `portal=${s.portal}`, '-C', String(s.controlPort)];
    const child = spawn('tgtd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const m: Managed = { child, portal: s.portal, log: '', exited: new Promise((r) => child.once('exit', () => r())) };
    const spawnError = new Promise<Error>((r) => child.on('error', r));
    child.stderr?.on('data', (chunk: Buffer) => {
      m.log = (m.log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    });
    // The agent may exit while tgtd keeps serving; export re-creates targets on the next start anyway.
    child.unref();
    (child.stderr as Socket | null)?.unref();
    this.managed.set(s.controlPort, m);
    void m.exited.then(() => {
      if (this.managed.get(s.controlPort) === m) this.managed.delete(s.controlPort);
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const failure = await Promise.race([
        spawnError,
        m.exited.then(() => 'exited' as const),
        sleep(POLL_MS).then(() => null),
      ]);
      if (failure instanceof Error) {
        this.managed.delete(s.controlPort);
        if ((failure as NodeJS.ErrnoException).code === 'ENOENT')
          throw new ToolMissingError('tgtd', 'tgt', { cause: failure });
        throw new TargetStartError(s.controlPort, s.portal, failure.message, { cause: failure });
      }
      if (failure === 'exited') throw new TargetStartError(s.controlPort, s.portal, lastLines(m.log));
      const served = await tgtadm.portals().catch((): string[] => []);
      if (served.includes(s.portal)) return;
      if (served.length > 0) {
        await this.stop(s.controlPort);
        throw new TargetStartError(
          s.controlPort,
          s.portal,
          `it listened on ${served.join(', ')} instead; ${lastLines(m.log)}`,
        );
      }
    }
    await this.stop(s.controlPort);
    throw new TargetStartError(s.controlPort, s.portal, `no answer within ${START_TIMEOUT_MS} ms; ${lastLines(m.log)}`);
  }
}

/** tgtd leaves its control socket and lock file behind when it exits. */
export async function removeControlSocket(controlPort: number): Promise<void> {
  const socket = `${CONTROL_SOCKET_DIR}/socket.${controlPort}`;
  await Promise.all([fs.rm(socket, { force: true }), fs.rm(`${socket}.lock`, { force: true })]);
}

/** The tgtd log lines that say what went wrong (it also prints harmless notices about RDMA and limits). */
function lastLines(log: string): string {
  const lines = log
    .split('\n')
    .filter((l) => /unable|failed|another|error|cannot|can't/i.test(l) && !/RDMA|oom|nr_open/.test(l));
  return lines.slice(-3).join('; ').trim();
}
