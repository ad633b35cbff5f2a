/** The audit trail: who did what to which resource, when, with what outcome. Append-only. */
import { type Db, type Item, recordKey, type Write } from './db';
import { newId } from './ids';
import type { AuditEntry } from './records';
import { stripKeys } from './resources';

export class Audit {
  constructor(private readonly db: Db) {}

  entry(e: Omit<AuditEntry, 'id'>): Write {
    const id = newId('audit');
    return this.db.putNew({ ...e, id, ...recordKey('audit', id), gsi1pk: 'audit', gsi1sk: `${e.at}#${id}` });
  }

  async record(e: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.db.transact([this.entry(e)]);
  }

  /** Newest first. */
  async list(opts: { limit?: number; cursor?: string }) {
    const page = await this.db.query<Item>('byKind', 'audit', { ...opts, newestFirst: true });
    return { items: page.items.map((i) => stripKeys<AuditEntry>(i)), cursor: page.cursor };
  }
}
