/**
 * Bearer tokens. Only a SHA-256 of each token is stored; the token itself is shown once, when made.
 */
import { type Db, type Item, recordKey } from './db';
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

  /** Revokes by token id. */
  async revoke(id: string): Promise<boolean> {
    const items = await this.db.queryAll<Item>('byKind', 'token');
    const hit = items.find((i) => i.id === id);
    if (!hit) return false;
    await this.db.transact([this.db.delete({ pk: hit.pk as string, sk: 'record' })]);
    return true;
  }
}
