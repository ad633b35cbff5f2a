/**
 * Ending an operation, once: `commit` records a successful outcome, `recordFailure` a failure and
 * undoes the request's reservations, each in one transaction with the operation and its audit
 * entry. Both are idempotent: a retried step finds the operation already ended and does nothing.
 */
import type { StepError, StepUndo } from '../../statemachines/steps';
import { undoOf } from '../../statemachines/tasks';
import type { Deps } from '../deps';
import { MalformedOutcomeError } from '../errors';
import { TransactionConflict, type Write } from '../store/db';
import type { Operation } from '../store/records';
import { explainFailure, type UserError, userError } from './failures';
import { kindOf } from './index';

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

export function commit(deps: Deps, id: string, outcome: unknown) {
  return retryOnRace(() => commitOnce(deps, id, outcome));
}

export function recordFailure(deps: Deps, id: string, error: StepError | undefined, undo?: StepUndo) {
  return retryOnRace(() => recordFailureOnce(deps, id, error, undo));
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

async function commitOnce(deps: Deps, id: string, outcome: unknown) {
  const op = await load(deps, id);
  if (!op) return { operation: id, status: 'already-ended' };
  let committed: Awaited<ReturnType<ReturnType<typeof kindOf>['commit']>>;
  try {
    committed = await kindOf(op).commit(deps, op, outcome, deps.now());
  } catch (e) {
    // An outcome that breaks the task's contract is never committed: the operation fails with it,
    // recorded here, unless the workflow first undoes the task on the agent and records it then.
    if (!(e instanceof MalformedOutcomeError) || undoOf(op.transition?.task)) throw e;
    return recordFailureOnce(deps, id, { Error: e.code, Cause: JSON.stringify({ code: e.code, message: e.message }) });
  }
  const out = await finish(deps, op, 'succeeded', { result: committed.result }, committed.writes);
  // Clean-up after the record is safe (e.g. the uploaded object); a failure here loses nothing.
  await committed
    .after?.()
    .catch((e: Error) => console.error(`operation ${id}: clean-up after commit failed: ${e.message}`));
  return out;
}

async function recordFailureOnce(deps: Deps, id: string, error: StepError | undefined, undo?: StepUndo) {
  const op = await load(deps, id);
  if (!op) return { operation: id, status: 'already-ended' };
  const e = withUndo(await explainFailure(deps, op, error), op, undo);
  const writes = await kindOf(op).undo(deps, op, e, deps.now());
  return finish(deps, op, 'failed', { error: e }, writes);
}
