/**
 * Bearer tokens. Only a SHA-256 of each token is stored; the token itself is shown once, when made.
 *
 * A token that was found is remembered for `cacheMs` by this `Tokens` (one per isolate or container),
 * so that most requests cost no token read. A revocation through this instance takes effect here at
 * once; any other instance stops accepting the token within `cacheMs`. Unknown tokens are never
 * remembered, so a new token works at once everywhere.
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

/** Tokens remembered at most, so a flood of distinct valid tokens cannot grow the memory of an isolate. */
const MAX_REMEMBERED = 1000;

export class Tokens {
  /** By token hash (never the secret itself), in the order they were remembered. */
  private readonly remembered = new Map<string, { token: Token; until: number }>();
  /** Bumped by each revocation, so a lookup that raced one does not remember what it read. */
  private revocations = 0;

  constructor(
    private readonly db: Db,
    private readonly cacheMs = 0,
    private readonly clock: () => number = Date.now,
  ) {}

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
    const hash = await sha256Hex(secret);
    const hit = this.remembered.get(hash);
    if (hit && hit.until > this.clock()) return hit.token;
    if (hit) this.remembered.delete(hash);
    const revocations = this.revocations;
    const item = await this.db.get<Item>(recordKey('token-hash', hash));
    if (!item) return undefined;
    const { hash: _hash, ...rest } = item;
    const token = stripKeys<Token>(rest);
    if (this.cacheMs > 0 && revocations === this.revocations) this.remember(hash, token);
    return token;
  }

  private remember(hash: string, token: Token): void {
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(hash, { token, until: this.clock() + this.cacheMs });
  }

  /** Forgets `id` here, and makes lookups in flight forget what they read. */
  private forget(id: string): void {
    this.revocations++;
    for (const [hash, { token }] of this.remembered) if (token.id === id) this.remembered.delete(hash);
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
    const outcome = await this.delete(id);
    if (outcome !== 'last_admin') this.forget(id);
    return outcome;
  }

  private async delete(id: string): Promise<'revoked' | 'not_found' | 'last_admin'> {
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
