/**
 * One stack per home. The lock is an abstract Unix socket named after the home directory's device
 * and inode: the kernel holds it exactly as long as the stack's process lives, SIGKILL included, so
 * the lock itself is never stale, and a second stack learns the holder's PID by connecting to it.
 *
 * Beside it, `$ENCOMPASS_HOME/stack.json` (0600) records the stack and its children, each as a
 * ProcessRef. A record found while the lock is free was left by a stack that was killed; any of its
 * children still running there (a hung or stopped one that its lifeline could not end) is checked to
 * be that very process and stopped before the new stack takes the home.
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeftoverProcessError, StackAlreadyRunningError } from './errors';
import { isRunning, type ProcessRef, refOf, stopRecorded } from './procs';

export interface RunRecord {
  pid: number;
  startTicks: string;
  startedAt: string;
  url?: string;
  /** By child name, in the order they started (a stop takes them in reverse: the agent first). */
  children: Record<string, ProcessRef>;
}

export const RECORD_FILE = 'stack.json';
/** How long a leftover gets to exit on SIGTERM before SIGKILL. */
const LEFTOVER_GRACE_MS = 3000;

export class HomeLock {
  private readonly record: RunRecord;

  private constructor(
    readonly home: string,
    private readonly server: Server,
  ) {
    this.record = {
      pid: process.pid,
      startTicks: refOf(process.pid, 'node')?.startTicks ?? '',
      startedAt: new Date().toISOString(),
      children: {},
    };
    this.write();
  }

  /**
   * Takes the home for this process, or throws StackAlreadyRunningError naming the holder's PID.
   * Children a killed stack left running are stopped first (LeftoverProcessError if one survives).
   */
  static async acquire(home: string, log: (line: string) => void): Promise<HomeLock> {
    const { dev, ino } = statSync(home);
    const address = `\0encompass-stack-${dev}-${ino}`;
    const server = await listenExclusive(address, home);
    try {
      await stopLeftovers(home, log);
      return new HomeLock(home, server);
    } catch (e) {
      server.close();
      throw e;
    }
  }

  get file(): string {
    return join(this.home, RECORD_FILE);
  }

  /** Records (or, with undefined, forgets) a child's current process. */
  child(name: string, ref: ProcessRef | undefined): void {
    if (ref) this.record.children[name] = ref;
    else delete this.record.children[name];
    this.write();
  }

  set url(url: string) {
    this.record.url = url;
    this.write();
  }

  /** The record's current content (what a killed stack would leave). */
  get current(): RunRecord {
    return structuredClone(this.record);
  }

  /** Removes the record and frees the home; call once every child has stopped. */
  release(): Promise<void> {
    rmSync(this.file, { force: true });
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private write(): void {
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.record, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/** Binds the abstract socket; if another process has it, asks it for its PID and refuses. */
async function listenExclusive(address: string, home: string): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const server = createServer((socket) => socket.end(JSON.stringify({ pid: process.pid, home })));
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ path: address }, () => resolve(undefined));
    });
    if (!error) {
      server.unref();
      return server;
    }
    if (error.code !== 'EADDRINUSE') throw error;
    const holder = await askHolder(address);
    // A holder that answers nothing is on its way out: give it a moment, then try again.
    if (holder !== undefined || attempt >= 5) throw new StackAlreadyRunningError(home, holder);
    await sleep(200);
  }
}

function askHolder(address: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ path: address });
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => {
      try {
        const { pid } = JSON.parse(text) as { pid?: unknown };
        resolve(typeof pid === 'number' ? pid : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

async function stopLeftovers(home: string, log: (line: string) => void): Promise<void> {
  const text = await readFile(join(home, RECORD_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch {
    log(`${RECORD_FILE} in ${home} is unreadable; taking the home over without it`);
    return;
  }
  // In reverse start order: the agent first, which aborts its tasks while the rest still answers.
  const running = Object.entries(record.children ?? {})
    .filter(([, ref]) => isRunning(ref))
    .reverse();
  log(
    `taking over ${home} from stack PID ${record.pid}, which ended without stopping` +
      (running.length
        ? `; stopping what it left running: ${running.map(([n, r]) => `${n} (PID ${r.pid})`).join(', ')}`
        : ''),
  );
  for (const [name, ref] of running) {
    if (!(await stopRecorded(ref, LEFTOVER_GRACE_MS))) throw new LeftoverProcessError(home, name, ref.pid);
  }
}
