/**
 * Waiting for an operation to end inside one read (`GET /v1/operations/{id}?wait=SECONDS`), with no
 * scheduler of our own. Two ways to learn of the end, whichever comes first:
 * - `Endings`: the ends this isolate saw, its own bookkeeping steps' or those it was told of (the
 *   local stack tells it of the steps it runs); a waiter looks at them every TICK_MS, which costs
 *   no I/O. (A waiter is not woken by a promise another request resolves: workerd runs such a
 *   continuation only once the resolving request yields, tens of ms later.)
 * - re-reads of the record with backoff, for where the end is never told here (AWS: the steps
 *   Lambda is not the API's container) or came another way (the reconciler).
 * The wait is bounded (MAX_WAIT_SECONDS, under API Gateway's 29 s) and answers the operation as it
 * is then, ended or not.
 */
import type { Operations } from '../store/operations';
import type { Operation } from '../store/records';

export const MAX_WAIT_SECONDS = 20;
const TICK_MS = 4;
/** The first re-read comes this soon; each next one later by BACKOFF, up to MAX_REREAD_MS. */
const FIRST_REREAD_MS = 25;
const BACKOFF = 1.5;
const MAX_REREAD_MS = 500;
/** Ends kept for waiters; a waiter that comes later reads the record, which has the end by then. */
const RECENT_ENDS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The operations that ended lately, as far as this isolate knows. */
export class Endings {
  private readonly recent = new Map<string, Operation>();
  private readonly listeners: ((op: Operation) => void)[] = [];

  /** Calls `tell` with every end from now on (the local stack forwards its steps' ends to workerd). */
  listen(tell: (op: Operation) => void): void {
    this.listeners.push(tell);
  }

  /** Called once the record of an ended operation is written. */
  ended(op: Operation): void {
    for (const tell of this.listeners) tell(op);
    this.recent.delete(op.id);
    this.recent.set(op.id, op);
    if (this.recent.size > RECENT_ENDS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** The ended record, if it ended lately as far as this isolate knows. */
  recentEnd(id: string): Operation | undefined {
    return this.recent.get(id);
  }

  /** The ended record once it is known here, or undefined after `ms`. */
  async within(id: string, ms: number): Promise<Operation | undefined> {
    const until = Date.now() + ms;
    for (;;) {
      const op = this.recent.get(id);
      const left = until - Date.now();
      if (op || left <= 0) return op;
      await sleep(Math.min(TICK_MS, left));
    }
  }
}

/** The operation once it ended, or as it is when `seconds` are up; `first` is the record as read already. */
export async function untilEnded(
  operations: Pick<Operations, 'get'>,
  endings: Endings,
  first: Operation,
  seconds: number,
): Promise<Operation> {
  const deadline = Date.now() + seconds * 1000;
  let op = first;
  let pause = FIRST_REREAD_MS;
  while (op.status === 'running') {
    const left = deadline - Date.now();
    if (left <= 0) return op;
    op = (await endings.within(op.id, Math.min(pause, left))) ?? (await operations.get(op.id)) ?? op;
    pause = Math.min(pause * BACKOFF, MAX_REREAD_MS);
  }
  return op;
}
