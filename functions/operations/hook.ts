/** The end of a hook: the clone is unlocked; the result keeps the end of what the hook printed. */
import type { Deps } from '../deps';
import type { Operation } from '../store/records';
import { revise } from '../store/resources';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

async function unlock(deps: Deps, op: Operation, now: string) {
  const clone = await deps.clones.get(op.resource.id);
  return clone?.lock === op.id ? [deps.clones.saveWrite(revise(clone, { lock: undefined }, now))] : [];
}

export const hookKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('hook', outcome);
    return {
      writes: await unlock(deps, op, now),
      result: { clone: op.resource.id, hook: o.hook, output: o.output, seconds: o.seconds },
    };
  },
  undo: (deps, op, _error, now) => unlock(deps, op, now),
};
