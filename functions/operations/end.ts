/**
 * Ending an operation, once: `commit` records a successful outcome, `recordFailure` a failure and
 * undoes the request's reservations, each in one transaction with the operation and its audit
 * entry. Both are idempotent: a retried step finds the operation already ended and does nothing.
 * A task with a release (statemachines/tasks.ts releaseTasks) ends in two steps: `commit` switches
 * the records and keeps the operation running, `recordRelease` ends it once the release ran.
 */
import type { StepError, StepRelease, StepUndo } from '../../statemachines/steps';
import { releaseOf, undoOf } from '../../statemachines/tasks';
import type { AgentStep, OperationTiming } from '../../statemachines/timing';
import type { Deps } from '../deps';
import { MalformedOutcomeError } from '../errors';
import { TransactionConflict, type Write } from '../store/db';
import { enterStep } from '../store/operations';
import type { Operation } from '../store/records';
import { explainFailure, type UserError, userError } from './failures';
import { kindOf } from './index';
import type { Committed } from './kind';

/** What the workflow, the agent and the bookkeeping step saw of the operation's time (timing.ts). */
export type Stamps = Omit<Partial<OperationTiming>, 'acceptedAt' | 'committedAt' | 'visibleAt'>;

/** The operation's timing with the stamps of this step and the moment it commits. */
function timed(op: Operation, stamps: Stamps, now: string): OperationTiming {
  return { acceptedAt: op.createdAt, ...op.timing, ...stamps, committedAt: now };
}

async function load(deps: Deps, id: string): Promise<Operation | undefined> {
  const op = await deps.operations.get(id);
  if (!op) throw new Error(`operation ${id} does not exist`);
  return op.status === 'running' ? op : undefined;
}

async function finish(
  deps: Deps,
  op: Operation,
  status: 'succeeded' | 'failed',
  patch: Pick<Operation, 'result'> | Pick<Operation, 'error'>,
  writes: Write[],
  stamps: Stamps,
) {
  const now = deps.now();
  const message = 'error' in patch ? patch.error?.message : undefined;
  const done: Operation = {
    ...op,
    ...patch,
    status,
    progress: status === 'succeeded' ? 1 : op.progress,
    steps: op.steps.map((s) =>
      s.status === 'running' ? { ...s, status, endedAt: now, ...(message ? { message } : {}) } : s,
    ),
    // A switched operation keeps the stamps of its commit (its `switchedAt`); its release adds only its end.
    timing: timed(op, op.switchedAt ? {} : stamps, now),
    updatedAt: now,
    rev: op.rev + 1,
  };
  const audit = deps.audit.entry({
    at: now,
    actor: op.actor,
    action: op.kind,
    resource: op.resource,
    outcome: status,
    operation: op.id,
    detail: message,
  });
  await deps.db.transact([...writes, deps.operations.saveWrite(done), audit]);
  // Readers waiting in this isolate see the end now; the log in S3 is for later.
  deps.endings.ended(done);
  await deps.catalog.putOperationLog(done);
  return { operation: op.id, status };
}

/**
 * Progress reports bump the operation's revision; a step that loses that race reads the
 * operation again and retries, instead of failing back to the workflow.
 */
async function retryOnRace<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof TransactionConflict) || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 20 * i));
    }
  }
}

/** `steps` are those the agent's task entered: its progress reports may not have arrived (timing.ts). */
export function commit(deps: Deps, id: string, outcome: unknown, stamps: Stamps = {}, steps: AgentStep[] = []) {
  return retryOnRace(() => commitOnce(deps, id, outcome, stamps, steps));
}

export function recordFailure(
  deps: Deps,
  id: string,
  error: StepError | undefined,
  undo?: StepUndo,
  stamps: Stamps = {},
) {
  return retryOnRace(() => recordFailureOnce(deps, id, error, undo, stamps));
}

/** The failure, told with what undoing the agent's change did (the workflow undoes before it records). */
function withUndo(e: UserError, op: Operation, undo: StepUndo | undefined): UserError {
  if (!undo) return e;
  const what = undoOf(op.transition?.task)?.undoes ?? "the agent's change";
  const What = what[0]!.toUpperCase() + what.slice(1);
  if (!('Error' in undo))
    return { ...e, message: `${e.message}. ${What} was undone before this failure was recorded.` };
  const why = userError(undo, op.site).message;
  return {
    ...e,
    message: `${e.message}. ${What} could not be undone (${why}): it may still be in place although the records do not show it; once the agent is back, send the request again, which finishes or replaces it.`,
  };
}

export function recordRelease(deps: Deps, id: string, released: StepRelease) {
  return retryOnRace(() => recordReleaseOnce(deps, id, released));
}

/** The operation with the steps the agent entered that no progress report brought (enterStep skips the others). */
function withSteps(op: Operation, steps: AgentStep[]): Operation {
  let entered = op.steps;
  for (const s of steps) entered = enterStep({ ...op, steps: entered }, s.name, s.startedAt, s.message);
  return { ...op, steps: entered };
}

async function commitOnce(deps: Deps, id: string, outcome: unknown, stamps: Stamps, steps: AgentStep[]) {
  const found = await deps.operations.get(id);
  if (!found) throw new Error(`operation ${id} does not exist`);
  // Switched already (a retried step): the workflow goes on to the release, whatever became of the operation.
  if (found.switchedAt) return { operation: id, status: 'switched' };
  if (found.status !== 'running') return { operation: id, status: 'already-ended' };
  const op = withSteps(found, steps);
  let committed: Committed;
  try {
    committed = await kindOf(op).commit(deps, op, outcome, deps.now());
  } catch (e) {
    // An outcome that breaks the task's contract is never committed: the operation fails with it,
    // recorded here, unless the workflow first undoes the task on the agent and records it then.
    if (!(e instanceof MalformedOutcomeError) || undoOf(op.transition?.task)) throw e;
    const cause = JSON.stringify({ code: e.code, message: e.message });
    return recordFailureOnce(deps, id, { Error: e.code, Cause: cause }, undefined, stamps);
  }
  if (releaseOf(op.transition?.task)) return switchOver(deps, op, committed, stamps);
  const out = await finish(deps, op, 'succeeded', { result: committed.result }, committed.writes, stamps);
  // Clean-up after the record is safe (e.g. the uploaded object); a failure here loses nothing.
  await committed
    .after?.()
    .catch((e: Error) => console.error(`operation ${id}: clean-up after commit failed: ${e.message}`));
  return out;
}

/**
 * Commits an outcome whose task has a release: the records switch over and the result is kept, but
 * the operation stays running (its kind keeps the clone locked) while the workflow runs the release.
 */
async function switchOver(deps: Deps, op: Operation, committed: Committed, stamps: Stamps) {
  const now = deps.now();
  const switched: Operation = {
    ...op,
    switchedAt: now,
    timing: timed(op, stamps, now),
    result: committed.result,
    steps: enterStep(op, 'release', now),
    updatedAt: now,
    rev: op.rev + 1,
  };
  await deps.db.transact([...committed.writes, deps.operations.saveWrite(switched)]);
  await committed
    .after?.()
    .catch((e: Error) => console.error(`operation ${op.id}: clean-up after commit failed: ${e.message}`));
  return { operation: op.id, status: 'switched' };
}

/**
 * Ends a switched operation as succeeded: its outcome is in the records. What the release could not
 * remove is named in the result; it has no record now, so a check of its repository lists it as an orphan.
 */
async function endSwitched(deps: Deps, op: Operation, leftover: UserError | undefined) {
  const what = releaseOf(op.transition?.task)?.releases ?? 'what the commit replaced';
  const result = leftover
    ? {
        ...op.result,
        released: false,
        releaseError: {
          code: leftover.code,
          message: `${what} could not be removed (${leftover.message}); no record names it now: check its repository and remove it as an orphan`,
        },
      }
    : { ...op.result, released: true };
  const writes = (await kindOf(op).released?.(deps, op, deps.now())) ?? [];
  return finish(deps, op, 'succeeded', { result }, writes, {});
}

async function recordReleaseOnce(deps: Deps, id: string, released: StepRelease) {
  const op = await load(deps, id);
  if (!op) return { operation: id, status: 'already-ended' };
  if (!op.switchedAt) throw new Error(`operation ${id} has no committed outcome to release after`);
  return endSwitched(deps, op, 'Error' in released ? userError(released, op.site) : undefined);
}

async function recordFailureOnce(
  deps: Deps,
  id: string,
  error: StepError | undefined,
  undo: StepUndo | undefined,
  stamps: Stamps,
) {
  const op = await load(deps, id);
  if (!op) return { operation: id, status: 'already-ended' };
  // The outcome is committed: only the release is cut short, which is no failure of the operation.
  if (op.switchedAt) return endSwitched(deps, op, await explainFailure(deps, op, error));
  const e = withUndo(await explainFailure(deps, op, error), op, undo);
  const writes = await kindOf(op).undo(deps, op, e, deps.now());
  return finish(deps, op, 'failed', { error: e }, writes, stamps);
}
