/**
 * The agent's memory of tasks it ran, by operation and task, so a task handed out again (a retry,
 * or a redelivery after the agent restarted) returns the earlier result instead of doing the
 * work twice. Entries are files written atomically; old ones are pruned at start.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readStateFile, writeStateFile } from './state-file';

/** A task as an activity handed it out. */
export interface Delivery {
  taskToken: string;
  task: string;
  operation: string;
  /** As delivered: checked against the task's contract before it runs. */
  input: unknown;
}

export interface JournalEntry {
  status: 'running' | 'succeeded' | 'failed';
  /** What was delivered, kept so a restarted agent can pick up a task it had in hand. */
  delivery?: Delivery;
  /** The outcome reached Step Functions. */
  reported?: boolean;
  /** How many restarts of the agent resumed this task so far (agent.ts stops at MAX_RESUMES). */
  resumes?: number;
  startedAt: string;
  endedAt?: string;
  result?: Record<string, unknown>;
  error?: { error: string; cause: string };
}

const KEEP_MS = 7 * 24 * 3600 * 1000;

export class Journal {
  constructor(private readonly dir: string) {}

  private file(operation: string, task: string) {
    return join(this.dir, `${operation.replace(/[^\w.-]/g, '_')}.${task}.json`);
  }

  async get(operation: string, task: string): Promise<JournalEntry | undefined> {
    // An entry that cannot be read is taken as absent: the task runs again, which is idempotent.
    return readStateFile<JournalEntry>(this.file(operation, task)).catch(() => undefined);
  }

  put(operation: string, task: string, entry: JournalEntry): Promise<void> {
    return writeStateFile(this.file(operation, task), entry);
  }

  /** Entries not yet reported to Step Functions: tasks an earlier run had in hand. */
  async unreported(): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const entry = await readStateFile<JournalEntry>(join(this.dir, name)).catch(() => undefined);
      if (entry?.delivery && !entry.reported) out.push(entry);
    }
    return out;
  }

  async prune(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (now - (await stat(path)).mtimeMs > KEEP_MS || !name.endsWith('.json')) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
