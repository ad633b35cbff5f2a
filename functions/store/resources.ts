/**
 * Named resources (sites, repositories, machines, masters, clones): one record each plus a name
 * reservation item, so names stay unique per kind even under concurrent creates.
 */
import { NameTakenError, NotFoundError } from '../errors';
import { type Db, type Item, nameKey, type RecordItem, recordKey, TransactionConflict, type Write } from './db';
import { type Kind, looksLikeId } from './ids';
import type { Base } from './records';

const keyFields = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'ttl'];

export function stripKeys<T>(item: Item): T {
  const out: Item = { ...item };
  for (const k of keyFields) delete out[k];
  return out as T;
}

export class Resources<T extends Base> {
  constructor(
    protected readonly db: Db,
    readonly kind: Kind,
    /** The parent reference a record is listed under in the `byParent` index, if any. */
    private readonly parentOf: (r: T) => string | undefined = () => undefined,
  ) {}

  toItem(r: T): RecordItem {
    const parent = this.parentOf(r);
    return {
      ...(r as unknown as RecordItem),
      ...recordKey(this.kind, r.id),
      gsi1pk: this.kind,
      gsi1sk: `${r.createdAt}#${r.id}`,
      ...(parent ? { gsi2pk: parent, gsi2sk: `${r.createdAt}#${r.id}` } : {}),
    };
  }

  /** The record an item holds, as the API reads it (a kind may give fields that records written before lack their default). */
  protected read(item: Item): T {
    return stripKeys<T>(item);
  }

  async get(id: string): Promise<T | undefined> {
    const item = await this.db.get<Item>(recordKey(this.kind, id));
    return item ? this.read(item) : undefined;
  }

  /** By id, else by name. */
  async find(ref: string): Promise<T | undefined> {
    if (looksLikeId(this.kind, ref)) {
      const byId = await this.get(ref);
      if (byId) return byId;
    }
    const name = await this.db.get<{ id: string }>(nameKey(this.kind, ref));
    return name ? this.get(name.id) : undefined;
  }

  async require(ref: string): Promise<T> {
    const r = await this.find(ref);
    if (!r) throw new NotFoundError(this.kind, ref);
    return r;
  }

  nameWrite(name: string, id: string): Write {
    return this.db.putNew({ ...nameKey(this.kind, name), id, kind: this.kind });
  }

  releaseNameWrite(name: string, id: string): Write {
    return this.db.delete(nameKey(this.kind, name), { expression: 'id = :id', values: { ':id': id } });
  }

  /** The writes that create `r` and reserve its name; see `create`. */
  createWrites(r: T): Write[] {
    return [this.db.putNew(this.toItem(r)), this.nameWrite(r.name, r.id)];
  }

  /** Writes `r` (its `rev` already bumped) only if the stored one is still at `rev - 1`. */
  saveWrite(r: T): Write {
    return this.db.putIfRev(this.toItem(r), r.rev - 1);
  }

  deleteWrites(r: T): Write[] {
    return [
      this.db.delete(recordKey(this.kind, r.id), { expression: 'rev = :rev', values: { ':rev': r.rev } }),
      this.releaseNameWrite(r.name, r.id),
    ];
  }

  /** Runs `writes` (which include this kind's name reservation at `namePosition`), mapping a taken name. */
  async transactNamed(writes: Write[], name: string, namePosition: number): Promise<void> {
    try {
      await this.db.transact(writes);
    } catch (e) {
      if (e instanceof TransactionConflict && e.failed.includes(namePosition))
        throw new NameTakenError(this.kind, name);
      throw e;
    }
  }

  async create(r: T, extra: Write[] = []): Promise<T> {
    await this.transactNamed([...this.createWrites(r), ...extra], r.name, 1);
    return r;
  }

  async save(r: T): Promise<T> {
    await this.db.saveRecord(this.kind, this.toItem(r), r.rev - 1);
    return r;
  }

  async list(opts: { limit?: number; cursor?: string } = {}) {
    const page = await this.db.query<Item>('byKind', this.kind, opts);
    return { items: page.items.map((i) => this.read(i)), cursor: page.cursor };
  }

  /** One page of the records `keep` keeps, of this kind or (with `parent`) of one parent (see Db.queryWhere). */
  async listWhere(opts: { limit?: number; cursor?: string; parent?: string }, keep: (r: T) => boolean) {
    const [index, partition] = opts.parent ? (['byParent', opts.parent] as const) : (['byKind', this.kind] as const);
    const page = await this.db.queryWhere<Item>(index, partition, opts, (i) => keep(this.read(i)));
    return { items: page.items.map((i) => this.read(i)), cursor: page.cursor };
  }

  async listAll(): Promise<T[]> {
    return (await this.db.queryAll<Item>('byKind', this.kind)).map((i) => this.read(i));
  }

  async children(parent: string): Promise<T[]> {
    return (await this.db.queryAll<Item>('byParent', parent)).map((i) => this.read(i));
  }
}

/** A copy of `r` with its revision bumped and `updatedAt` set, ready for `saveWrite`. */
export function revise<T extends Base>(r: T, changes: Partial<T>, now: string): T {
  return { ...r, ...changes, rev: r.rev + 1, updatedAt: now };
}
