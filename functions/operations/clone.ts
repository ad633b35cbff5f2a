/** The end of a clone: the clone becomes ready with what the agent made; a failed clone leaves no record. */
import { revise } from '../store/resources';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

export const cloneKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('clone', outcome);
    const facts = { sizeBytes: o.sizeBytes, allocatedBytes: o.allocatedBytes, sha256: o.sha256, format: o.format };
    const c = await deps.clones.get(op.resource.id);
    const ready = revise(
      c!,
      { ...facts, method: o.method, path: o.path, backing: o.backing, status: 'ready', lock: undefined },
      now,
    );
    return { writes: [deps.clones.saveWrite(ready)], result: { clone: ready.id, method: ready.method, ...facts } };
  },
  async undo(deps, op) {
    const clone = await deps.clones.get(op.resource.id);
    return clone?.status === 'creating' ? deps.clones.deleteWrites(clone) : [];
  },
};
