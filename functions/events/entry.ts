/**
 * What one lifecycle event does, in one entry beside the table (statemachines/lifecycle.ts): its
 * checks when the request is accepted, the agent task's input, its commit when the agent's outcome
 * arrives, and its undo when the operation fails. The table says which states it moves between and
 * which task it runs; the entry says everything else. `functions/events/index.ts` keys the entries
 * by event, so an event without an entry does not compile.
 */
import { z } from 'zod';
import type { LifecycleEvent, Transition, transitions } from '../../statemachines/lifecycle';
import type { ImageRef, TaskInput, TaskName, TaskOutcome } from '../../statemachines/tasks';
import type { Parent } from '../actions/accept';
import type { Deps } from '../deps';
import type { Write } from '../store/db';
import type { Clone, Machine, Operation, Repository } from '../store/records';

/** The agent task of `E`, from the table. */
export type TaskOf<E extends LifecycleEvent> = Extract<(typeof transitions)[number], { event: E }>['task'];

export type NoTask = Record<string, never>;
/** The input the workflow hands the agent for `E`'s task; nothing for a metadata-only event. */
export type InputOf<E extends LifecycleEvent> = TaskOf<E> extends TaskName ? TaskInput<TaskOf<E>> : NoTask;
/** The agent's outcome for `E`'s task, checked against its contract before commit. */
export type OutcomeOf<E extends LifecycleEvent> = TaskOf<E> extends TaskName ? TaskOutcome<TaskOf<E>> : NoTask;

/** What an entry sees when a request for its event arrives: the clone, unlocked, and its storage. */
export interface Accepting {
  deps: Deps;
  clone: Clone;
  repo: Repository;
  image: ImageRef;
  transition: Transition;
  /** The scenario this request is a step of (a deployment), if any. */
  parent?: Parent;
}

/** What accept decides: what the operation records, what the agent gets, what it reserves. */
export interface Planned<E extends LifecycleEvent, R> {
  /** Kept on the operation; the commit and the undo read it back. */
  request: R;
  input: InputOf<E>;
  /** A machine bound to the clone in the same transaction as the lock (assign). */
  reserve?: Machine;
  /** Removes what accept wrote outside the table (a customization document) if the request is refused after all. */
  discard?: () => Promise<void>;
}

/** What an entry sees when the operation ends. */
export interface Ending<R> {
  deps: Deps;
  op: Operation;
  clone: Clone;
  request: R;
  now: string;
}

/** What a success changes besides the planned transition. */
export interface Commit {
  changes?: Partial<Clone>;
  writes?: Write[];
  /** Replaces the default result (the clone's state and the agent's outcome). */
  result?: Record<string, unknown>;
  /** Clean-up once the commit is recorded; a failure here loses nothing. */
  after?: () => Promise<void>;
}

export interface EventEntry<E extends LifecycleEvent, R = NoTask, B = NoBody> {
  /** The request body's schema. */
  body: z.ZodType<B>;
  /** Checks the request against the world (throws a 4xx ApiError) and plans the task. */
  accept(a: Accepting, body: B): Promise<Planned<E, R>> | Planned<E, R>;
  commit?(e: Ending<R>, outcome: OutcomeOf<E>): Promise<Commit> | Commit;
  /** Writes that release what accept reserved; the clone's lock is released for every event. */
  undo?(e: Ending<R>): Promise<Write[]>;
}

/** The body of an event that takes none. */
export const noBody = z.strictObject({});
export type NoBody = z.infer<typeof noBody>;

/** A metadata-only event with no body and nothing to reserve: the table's transition is all it does. */
export const tableOnly = { body: noBody, accept: () => ({ request: {}, input: {} }) };
