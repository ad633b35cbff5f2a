/**
 * Bearer tokens. Only a SHA-256 of each token is stored; the token itself is shown once, when made.
 */
import { ConcurrentWriteError } from '../errors';
import { type Db, type Item, recordKey, TransactionConflict } from './db';
import { newId, randomString } from './ids';
import type { Role, Token } from './records';
import { stripKeys } from './resources';

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Tokens {
  constructor(private readonly db: Db) {}

  /** Makes a token; returns the secret (shown once) and the stored record. */
  async create(t: { role: Role; site?: string; label?: string; createdBy: string }, now: string) {
    const secret = `enc_${randomString(40)}`;
    const record: Token = { id: newId('token'), createdAt: now, ...t };
    const hash = await sha256Hex(secret);
    await this.db.transact([
      this.db.putNew({
        ...record,
        ...recordKey('token-hash', hash),
        hash,
        gsi1pk: 'token',
        gsi1sk: `${now}#${record.id}`,
      }),
    ]);
    return { secret, record };
  }

  async lookup(secret: string): Promise<Token | undefined> {
    const item = await this.db.get<Item>(recordKey('token-hash', await sha256Hex(secret)));
    if (!item) return undefined;
    const { hash: _hash, ...rest } = item;
    return stripKeys<Token>(rest);
  }

  async list(): Promise<Token[]> {
    const items = await this.db.queryAll<Item>('byKind', 'token');
    return items.map(({ hash: _hash, ...rest }) => stripKeys<Token>(rest));
  }

  /**
   * Revokes by token id, but never the last admin token: an admin token is deleted only in a
   * transaction that also finds another admin token still there, so two admins revoking each other
   * at the same time cannot both succeed.
   */
  async revoke(id: string): Promise<'revoked' | 'not_found' | 'last_admin'> {
    const gone = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const items = await this.db.queryAll<Item>('byKind', 'token');
      const hit = items.find((i) => i.id === id);
      if (!hit) return 'not_found';
      const key = { pk: hit.pk as string, sk: 'record' };
      if (hit.role !== 'admin') {
        await this.db.transact([this.db.delete(key)]);
        return 'revoked';
      }
      // The list is an index, a moment behind: a token it shows may be gone, which the transaction finds.
      const other = items.find((i) => i.role === 'admin' && i.id !== id && !gone.has(i.id as string));
      if (!other) return 'last_admin';
      try {
        await this.db.transact([
          this.db.delete(key, { expression: 'attribute_exists(pk)' }),
          this.db.exists({ pk: other.pk as string, sk: 'record' }),
        ]);
        return 'revoked';
      } catch (e) {
        // Raced by another transaction on the same tokens: look again, a few times.
        if (e instanceof ConcurrentWriteError && attempt < 4) continue;
        if (!(e instanceof TransactionConflict)) throw e;
        if (e.failed.includes(0)) return 'not_found';
        gone.add(other.id as string);
      }
    }
  }
}
