/**
 * A thin layer over the DynamoDB document client: consistent reads, optimistic writes guarded by
 * `rev`, and all-or-nothing transactions whose failed conditions are reported by position.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config';
import { fieldPath } from '../domain/field-path';
import {
  CodedError,
  ConcurrentWriteError,
  InvalidCursorError,
  RecordTooLargeError,
  StaleRecordError,
  UnstorableValueError,
} from '../errors';
import { itemSize, MAX_ITEM_BYTES, MAX_ITEM_LEVELS, unstorable } from './limits';

export type Key = { pk: string; sk: string };
export type Item = Record<string, unknown>;
/** A stored record: has an id and a revision. */
export type RecordItem = Item & { id: string; rev: number };
export type Write = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const recordKey = (kind: string, id: string): Key => ({ pk: `${kind}#${id}`, sk: 'record' });
export const nameKey = (kind: string, name: string): Key => ({ pk: `name#${kind}#${name}`, sk: 'name' });

/**
 * A transaction was cancelled; `failed` holds the positions whose condition did not hold. A signal for the
 * store's callers, who turn it into an `ApiError` (or retry); one that escapes is an internal error.
 */
export class TransactionConflict extends CodedError {
  override readonly code = 'transaction_conflict';
  constructor(
    readonly failed: number[],
    options?: ErrorOptions,
  ) {
    super(`transaction cancelled by conditions at ${failed.join(', ')}`, { failed }, options);
  }
}

const indexKeys = { byKind: ['gsi1pk', 'gsi1sk'], byParent: ['gsi2pk', 'gsi2sk'] } as const;

/**
 * The start key a `cursor` stands for. A cursor is the last key of a page of that same list; anything
 * else (not base64 of a JSON object of exactly the table's and the index's key strings, or another
 * list's) is the caller's mistake, not a query to send.
 */
function startKey(cursor: string, index: keyof typeof indexKeys, partition: string): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(atob(cursor));
  } catch {
    throw new InvalidCursorError();
  }
  const names = ['pk', 'sk', ...indexKeys[index]];
  const fits =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === names.length &&
    names.every((n) => typeof (key as Record<string, unknown>)[n] === 'string') &&
    (key as Record<string, string>)[indexKeys[index][0]] === partition;
  if (!fits) throw new InvalidCursorError();
  return key as Record<string, string>;
}

/** A filtered page reads at least this many items at a time, and at most this many times (queryWhere). */
const FILTERED_BATCH = 100;
const MAX_FILTERED_READS = 10;

/** The key of `item` in `index`, as DynamoDB gives it in LastEvaluatedKey: what a cursor holds. */
function keyOf(item: Item, index: keyof typeof indexKeys): Record<string, unknown> {
  return Object.fromEntries(['pk', 'sk', ...indexKeys[index]].map((k) => [k, item[k]]));
}

/** Refuses an item DynamoDB would refuse, before any of a transaction is sent (see limits.ts). */
function checkItem(item: Item): void {
  const kind = String(item.pk ?? 'item').split('#')[0]!;
  const bad = unstorable(item, MAX_ITEM_LEVELS);
  if (bad)
    throw new UnstorableValueError(kind, bad.path.length ? fieldPath('record', bad.path) : 'the record', bad.problem);
  const { bytes, largest } = itemSize(item);
  if (bytes > MAX_ITEM_BYTES) throw new RecordTooLargeError(kind, bytes, MAX_ITEM_BYTES, largest);
}

export class Db {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    private readonly config: Config,
    client = new DynamoDBClient({
      region: config.region,
      endpoint: config.endpoints.dynamodb,
      credentials: config.credentials,
    }),
  ) {
    // Records are plain JSON; a key such as "constructor" in free-form settings must not make an object look like a class instance.
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
  }

  get table(): string {
    return this.config.table;
  }

  async get<T>(key: Key): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item as T | undefined;
  }

  /** One page of an index, newest last; `cursor` continues where the previous page stopped. */
  async query<T>(
    index: 'byKind' | 'byParent',
    partition: string,
    opts: { limit?: number; cursor?: string; newestFirst?: boolean } = {},
  ): Promise<{ items: T[]; cursor?: string }> {
    const query = new QueryCommand({
      TableName: this.table,
      IndexName: index,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': indexKeys[index][0] },
      ExpressionAttributeValues: { ':p': partition },
      Limit: opts.limit,
      ScanIndexForward: !opts.newestFirst,
      ExclusiveStartKey: opts.cursor ? startKey(opts.cursor, index, partition) : undefined,
    });
    const out = await this.doc.send(query).catch((e: Error) => {
      // A key of the right shape that DynamoDB still refuses (e.g. too long) is as bad a cursor.
      if (opts.cursor && e.name === 'ValidationException') throw new InvalidCursorError();
      throw e;
    });
    const cursor = out.LastEvaluatedKey ? btoa(JSON.stringify(out.LastEvaluatedKey)) : undefined;
    return { items: (out.Items ?? []) as T[], cursor };
  }

  /**
   * One page of the items of an index partition that `keep` keeps, read page by page: up to `limit` of
   * them, with a cursor whenever more of the partition is left unread. The cursor is the key of the last
   * item kept (or read), so the next page starts right after it. After MAX_FILTERED_READS reads the page
   * is answered short, with its cursor: a rare match does not hold the request for a whole scan, and a
   * page without a cursor always means that nothing else matches.
   */
  async queryWhere<T extends Item>(
    index: 'byKind' | 'byParent',
    partition: string,
    opts: { limit?: number; cursor?: string; newestFirst?: boolean },
    keep: (item: T) => boolean,
  ): Promise<{ items: T[]; cursor?: string }> {
    const want = opts.limit ?? Number.POSITIVE_INFINITY;
    const batch = opts.limit ? Math.max(opts.limit, FILTERED_BATCH) : undefined;
    const kept: T[] = [];
    let cursor = opts.cursor;
    for (let reads = 1; ; reads++) {
      const page = await this.query<T>(index, partition, { limit: batch, cursor, newestFirst: opts.newestFirst });
      for (const [i, item] of page.items.entries()) {
        if (!keep(item)) continue;
        kept.push(item);
        if (kept.length < want) continue;
        const more = i < page.items.length - 1 || page.cursor !== undefined;
        return { items: kept, ...(more ? { cursor: btoa(JSON.stringify(keyOf(item, index))) } : {}) };
      }
      cursor = page.cursor;
      if (!cursor || reads >= MAX_FILTERED_READS) return { items: kept, ...(cursor ? { cursor } : {}) };
    }
  }

  /** Every item of an index partition (bounded lists: sites, repositories, running operations). */
  async queryAll<T>(index: 'byKind' | 'byParent', partition: string): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.query<T>(index, partition, { cursor });
      all.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return all;
  }

  async transact(writes: Write[]): Promise<void> {
    for (const w of writes) if (w.Put?.Item) checkItem(w.Put.Item);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: writes }));
    } catch (e) {
      const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((e as Error).name === 'TransactionCanceledException' && reasons) {
        const failed = reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
        if (failed.length) throw new TransactionConflict(failed, { cause: e });
        if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new ConcurrentWriteError({ cause: e });
      }
      throw e;
    }
  }

  /** A Put of a whole record that only succeeds if nobody wrote it since revision `rev`. */
  putIfRev(item: RecordItem, rev: number): Write {
    return {
      Put: {
        TableName: this.table,
        Item: item,
        ConditionExpression: rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ExpressionAttributeValues: rev === 0 ? undefined : { ':rev': rev },
      },
    };
  }

  /** Writes nothing: the transaction goes through only while the record at `key` is at revision `rev`. */
  atRev(key: Key, rev: number): Write {
    return {
      ConditionCheck: {
        TableName: this.table,
        Key: key,
        ConditionExpression: 'rev = :rev',
        ExpressionAttributeValues: { ':rev': rev },
      },
    };
  }

  /** Writes nothing: the transaction goes through only while an item exists at `key`. */
  exists(key: Key): Write {
    return { ConditionCheck: { TableName: this.table, Key: key, ConditionExpression: 'attribute_exists(pk)' } };
  }

  putNew(item: Item): Write {
    return { Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  put(item: Item): Write {
    return { Put: { TableName: this.table, Item: item } };
  }

  delete(key: Key, condition?: { expression: string; values?: Item }): Write {
    return {
      Delete: {
        TableName: this.table,
        Key: key,
        ConditionExpression: condition?.expression,
        ExpressionAttributeValues: condition?.values,
      },
    };
  }

  /** Write one record guarded by its revision; StaleRecordError when it changed meanwhile. */
  async saveRecord(kind: string, item: RecordItem, rev: number): Promise<void> {
    try {
      await this.transact([this.putIfRev(item, rev)]);
    } catch (e) {
      if (e instanceof TransactionConflict) throw new StaleRecordError(kind, item.id);
      throw e;
    }
  }
}
