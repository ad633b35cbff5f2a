/**
 * The end of a lifecycle event: success applies the transition planned when the request was
 * accepted (not planned again) and the event entry's commit; failure releases the clone's lock,
 * records `lastError` and runs the entry's undo. The state stays as it was. An event whose task has
 * a release (relocate) keeps the clone locked at its commit, until the release has run.
 */
import { apply, type LifecycleEvent } from '../../statemachines/lifecycle';
import { releaseOf } from '../../statemachines/tasks';
import { eventEntries } from '../events';
import type { Ending } from '../events/entry';
import { cloneState } from '../events/plan';
import type { Clone, Operation } from '../store/records';
import { revise } from '../store/resources';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

async function ending(deps: Ending<unknown>['deps'], op: Operation, now: string): Promise<Ending<unknown>> {
  const clone = await deps.clones.get(op.resource.id);
  if (!clone) throw new Error(`operation ${op.id}: clone ${op.resource.id} does not exist`);
  return { deps, op, clone, request: op.request, now };
}

export const eventKind: OperationKind = {
  async commit(deps, op, raw, now) {
    const planned = op.transition;
    if (!planned) throw new Error(`operation ${op.id} (${op.kind}) has no planned transition`);
    const outcome = planned.task ? outcomeOf(planned.task, raw) : {};
    const e = await ending(deps, op, now);
    const entry = eventEntries[planned.event];
    // `outcome` fits the contract of this event's task (outcomeOf above): the entry's own type.
    const done = (await entry.commit?.(e, outcome as never)) ?? {};
    const next = apply(cloneState(e.clone), planned, 'booted' in outcome && outcome.booted === true);
    const lock = releaseOf(planned.task) ? op.id : undefined;
    const updated = revise<Clone>(e.clone, { ...next, ...done.changes, lock, lastError: undefined }, now);
    return {
      writes: [deps.clones.saveWrite(updated), ...(done.writes ?? [])],
      result: done.result ?? {
        clone: updated.id,
        metastate: updated.metastate,
        binding: updated.binding,
        status: updated.status,
        ...outcome,
      },
      after: done.after,
    };
  },
  async released(deps, op, now) {
    const clone = await deps.clones.get(op.resource.id);
    return clone?.lock === op.id ? [deps.clones.saveWrite(revise(clone, { lock: undefined }, now))] : [];
  },
  async undo(deps, op, error, now) {
    const clone = await deps.clones.get(op.resource.id);
    if (!clone || clone.lock !== op.id) return [];
    const e: Ending<unknown> = { deps, op, clone, request: op.request, now };
    const undo = eventEntries[op.kind as LifecycleEvent].undo;
    return [
      deps.clones.saveWrite(
        revise(clone, { lock: undefined, lastError: { ...error, operation: op.id, at: now } }, now),
      ),
      ...((await undo?.(e)) ?? []),
    ];
  },
};
