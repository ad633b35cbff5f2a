/**
 * The end of an import: the master becomes ready with the facts the agent found, and an uploaded
 * object goes only once the master is recorded; a failed import leaves no master record behind.
 */
import type { Deps } from '../deps';
import { recordKey, type Write } from '../store/db';
import type { Operation } from '../store/records';
import { revise } from '../store/resources';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

/** An adopted orphan is released; once it has its master record, it is no orphan any more. */
async function adoptedWrites(deps: Deps, op: Operation, adopted: boolean): Promise<Write[]> {
  if (op.request.orphan !== true) return [];
  const repository = op.request.repository as string;
  const path = op.request.path as string;
  const dropped = adopted ? await deps.checks.withoutOrphanWrite(repository, path) : undefined;
  return [deps.checks.unlockWrite(repository, path), ...(dropped ? [dropped] : [])];
}

export const importKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('import', outcome);
    const facts = { sizeBytes: o.sizeBytes, allocatedBytes: o.allocatedBytes, sha256: o.sha256, format: o.format };
    const m = await deps.masters.get(op.resource.id);
    const ready = revise(m!, { ...facts, filesystem: o.filesystem, status: 'ready', operation: undefined }, now);
    await deps.catalog.putMaster(ready);
    const upload = op.request.upload as string | undefined;
    return {
      writes: [
        deps.masters.saveWrite(ready),
        ...(upload ? [deps.db.delete(recordKey('upload', upload))] : []),
        ...(await adoptedWrites(deps, op, true)),
      ],
      result: { master: ready.id, ...facts, filesystem: ready.filesystem },
      after: upload ? () => deps.catalog.deleteObject(op.request.key as string) : undefined,
    };
  },
  async undo(deps, op, error) {
    const m = await deps.masters.get(op.resource.id);
    const upload = op.request.upload as string | undefined;
    return [
      ...(m && m.status === 'importing' ? await deps.masters.removeWrites(m) : []),
      ...(await adoptedWrites(deps, op, false)),
      ...(upload
        ? [
            deps.db.put({
              ...recordKey('upload', upload),
              id: upload,
              key: op.request.key,
              status: 'failed',
              error,
              operation: op.id,
            }),
          ]
        : []),
    ];
  },
};
