/**
 * Operations: the record of one asynchronous piece of work (import, clone, a lifecycle event).
 * Running operations are also listed under `byParent` = `operations#running`, so the reconciler
 * finds them without a scan; finishing removes them from that list.
 */
import { type Db, type Item, type RecordItem, recordKey, type Write } from './db';
import { newId } from './ids';
import type { Operation, OperationStep } from './records';
import { stripKeys } from './resources';

const RUNNING = 'operations#running';

export class Operations {
  constructor(private readonly db: Db) {}

  toItem(op: Operation): RecordItem {
    return {
      ...(op as unknown as RecordItem),
      ...recordKey('operation', op.id),
      gsi1pk: 'operation',
      gsi1sk: `${op.createdAt}#${op.id}`,
      ...(op.status === 'running' ? { gsi2pk: RUNNING, gsi2sk: `${op.createdAt}#${op.id}` } : {}),
    };
  }

  /** `id`: one handed out before the work was asked for (an upload's import); by default a new one. */
  create(
    o: Pick<Operation, 'kind' | 'resource' | 'site' | 'actor' | 'request' | 'transition' | 'parent' | 'host'>,
    now: string,
    firstStep: string,
    executionArnFor: (id: string) => string,
    id = newId('operation'),
  ): Operation {
    return {
      ...o,
      id,
      executionArn: executionArnFor(id),
      status: 'running',
      progress: 0,
      steps: [{ name: firstStep, status: 'running', startedAt: now }],
      createdAt: now,
      updatedAt: now,
      rev: 1,
    };
  }

  newWrite(op: Operation): Write {
    return this.db.putNew(this.toItem(op));
  }

  saveWrite(op: Operation): Write {
    return this.db.putIfRev(this.toItem(op), op.rev - 1);
  }

  async get(id: string): Promise<Operation | undefined> {
    const item = await this.db.get<Item>(recordKey('operation', id));
    return item ? stripKeys<Operation>(item) : undefined;
  }

  async save(op: Operation): Promise<void> {
    await this.db.saveRecord('operation', this.toItem(op), op.rev - 1);
  }

  async running(): Promise<Operation[]> {
    return (await this.db.queryAll<Item>('byParent', RUNNING)).map((i) => stripKeys<Operation>(i));
  }

  /** Newest first; `running` lists only the running ones, from their own index. */
  async list(
    opts: { limit?: number; cursor?: string; running?: boolean },
    keep: (op: Operation) => boolean = () => true,
  ) {
    const [index, partition] = opts.running ? (['byParent', RUNNING] as const) : (['byKind', 'operation'] as const);
    const page = await this.db.queryWhere<Item>(index, partition, { ...opts, newestFirst: true }, (i) =>
      keep(stripKeys<Operation>(i)),
    );
    return { items: page.items.map((i) => stripKeys<Operation>(i)), cursor: page.cursor };
  }
}

/** Ends the running step and starts `name` (no-op when it is the running step, or ended already). */
export function enterStep(op: Operation, name: string, now: string, message?: string): OperationStep[] {
  const steps = op.steps.map((s) => ({ ...s }));
  const last = steps.at(-1);
  if (last?.name === name && last.status === 'running') {
    if (message) last.message = message;
    return steps;
  }
  // Steps only move forward: a report that names a step already ended arrived late, and opens nothing.
  if (steps.some((s) => s.name === name && s.status !== 'running')) return steps;
  if (last?.status === 'running') Object.assign(last, { status: 'succeeded', endedAt: now });
  steps.push({ name, status: 'running', startedAt: now, ...(message ? { message } : {}) });
  return steps;
}

/** Closes the running step with the operation's outcome. */
export function closeSteps(
  op: Operation,
  outcome: 'succeeded' | 'failed',
  now: string,
  message?: string,
): OperationStep[] {
  return op.steps.map((s) =>
    s.status === 'running' ? { ...s, status: outcome, endedAt: now, ...(message ? { message } : {}) } : s,
  );
}
