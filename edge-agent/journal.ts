/**
 * The agent's memory of tasks it ran, by operation and task, so a task handed out again (a retry,
 * or a redelivery after the agent restarted) returns the earlier result instead of doing the
 * work twice. Entries are files written atomically; old ones are pruned at start.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface JournalEntry {
  status: 'running' | 'succeeded' | 'failed';
  /** What was delivered, kept so a restarted agent can pick up a task it had in hand. */
  delivery?: { taskToken: string; task: string; operation: string; input: Record<string, unknown> };
  /** The outcome reached Step Functions. */
  reported?: boolean;
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
    try {
      return JSON.parse(await readFile(this.file(operation, task), 'utf8')) as JournalEntry;
    } catch {
      return undefined;
    }
  }

  async put(operation: string, task: string, entry: JournalEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(operation, task);
    await writeFile(`${file}.tmp`, JSON.stringify(entry));
    await rename(`${file}.tmp`, file);
  }

  /** Entries not yet reported to Step Functions: tasks an earlier run had in hand. */
  async unreported(): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const entry = JSON.parse(await readFile(join(this.dir, name), 'utf8').catch(() => '{}')) as JournalEntry;
      if (entry.delivery && !entry.reported) out.push(entry);
    }
    return out;
  }

  async prune(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (now - (await stat(path)).mtimeMs > KEEP_MS || name.endsWith('.tmp')) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
