/**
 * How an operation of one kind ends: what a success writes, from the agent's outcome (checked
 * against its task's contract by `outcomeOf` before anything else), and what a failure undoes of
 * the reservations made when the request was accepted.
 */
import type { Deps } from '../deps';
import type { Write } from '../store/db';
import type { Operation } from '../store/records';
import type { UserError } from './failures';

export interface Committed {
  writes: Write[];
  result: Record<string, unknown>;
  /** Clean-up once the commit is recorded (e.g. the uploaded object); a failure here loses nothing. */
  after?: () => Promise<void>;
}

export interface OperationKind {
  /** `outcome` is the agent's, unchecked: MalformedOutcomeError when it does not fit the task's contract. */
  commit(deps: Deps, op: Operation, outcome: unknown, now: string): Promise<Committed>;
  undo(deps: Deps, op: Operation, error: UserError, now: string): Promise<Write[]>;
  /** For a kind whose commit keeps the operation running for a release (tasks.ts releaseTasks): the writes that end it. */
  released?(deps: Deps, op: Operation, now: string): Promise<Write[]>;
}
