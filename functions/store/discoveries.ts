/**
 * Discovery runs and the conflict queue. A discovery record says what was asked and how it went (its
 * operation holds the diff); a site runs one discovery at a time (a lock item, released when it ends).
 * A conflict's id is made from its key, so the same ambiguity found by every run is one entry.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import type { ConflictDraft } from '../discovery/reconcile';
import type { StoredSeed } from '../discovery/seeds';
import { type Db, type Item, type Key, recordKey, type Write } from './db';
import { prefixes } from './ids';
import { stripKeys } from './resources';

export interface Discovery {
  id: string;
  site: string;
  /** Kind and address only: credentials stay in the secret store. */
  seeds: { kind: StoredSeed['kind']; address: string }[];
  dryRun: boolean;
  /** Started by the site's schedule rather than a request. */
  scheduled: boolean;
  operation: string;
  status: 'running' | 'succeeded' | 'failed';
  /** How many of each the run found: new, matched, changed, missing, conflicts, orphans, ghosts, drift. */
  counts?: Record<string, number>;
  actor: string;
  createdAt: string;
  updatedAt: string;
  rev: number;
}

export type ConflictAction = 'merge' | 'new' | 'ignore' | 'replace';

export interface Conflict extends Omit<ConflictDraft, 'observation'> {
  id: string;
  site: string;
  status: 'open' | 'resolved';
  /** What was observed (absent for a machine that vanished). */
  observation?: MachineObservation;
  /** The seed that reported it (its credentials by reference: a machine made of it keeps using them). */
  seed?: StoredSeed;
  discovery: string;
  firstSeen: string;
  lastSeen: string;
  /** Runs that raised it. */
  runs: number;
  /** `cleared`: a vanished machine a later run found again. */
  resolution?: {
    action: ConflictAction | 'cleared';
    candidate?: string;
    machine?: string;
    /** What the resolution could not do (a MAC another record holds). */
    note?: string;
    by: string;
    at: string;
  };
  createdAt: string;
  updatedAt: string;
  rev: number;
}

const lockKey = (site: string): Key => ({ pk: `discovery-lock#${site}`, sk: 'lock' });

/** `cf-` and 12 characters of the key's SHA-256: the same key is the same conflict. */
export async function conflictId(site: string, key: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${site}\n${key}`)));
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return `${prefixes.conflict}-${Array.from(bytes.slice(0, 12), (b) => alphabet[b % alphabet.length]).join('')}`;
}

export class Discoveries {
  constructor(private readonly db: Db) {}

  private item(kind: 'discovery' | 'conflict', r: { id: string; createdAt: string }): Item {
    return { ...r, ...recordKey(kind, r.id), gsi1pk: kind, gsi1sk: `${r.createdAt}#${r.id}` };
  }

  async get(id: string): Promise<Discovery | undefined> {
    const item = await this.db.get<Item>(recordKey('discovery', id));
    return item ? stripKeys<Discovery>(item) : undefined;
  }

  newWrite(d: Discovery): Write {
    return this.db.putNew(this.item('discovery', d));
  }

  saveWrite(d: Discovery): Write {
    return this.db.putIfRev(this.item('discovery', d) as Item & { id: string; rev: number }, d.rev - 1);
  }

  async list(opts: { limit?: number; cursor?: string }) {
    const page = await this.db.query<Item>('byKind', 'discovery', { ...opts, newestFirst: true });
    return { items: page.items.map((i) => stripKeys<Discovery>(i)), cursor: page.cursor };
  }

  /** Holds the site for `operation`: a second discovery of the site fails the transaction at this position. */
  lockWrite(site: string, operation: string): Write {
    return this.db.putNew({ ...lockKey(site), operation });
  }

  unlockWrite(site: string): Write {
    return this.db.delete(lockKey(site));
  }

  async lockHolder(site: string): Promise<string | undefined> {
    return (await this.db.get<{ operation: string }>(lockKey(site)))?.operation;
  }

  async conflict(id: string): Promise<Conflict | undefined> {
    const item = await this.db.get<Item>(recordKey('conflict', id));
    return item ? stripKeys<Conflict>(item) : undefined;
  }

  /** Every conflict of every site (the queue is small: what an operator has to look at). */
  async conflicts(): Promise<Conflict[]> {
    return (await this.db.queryAll<Item>('byKind', 'conflict')).map((i) => stripKeys<Conflict>(i));
  }

  conflictWrite(c: Conflict): Write {
    return this.db.putIfRev(this.item('conflict', c) as Item & { id: string; rev: number }, c.rev - 1);
  }
}
