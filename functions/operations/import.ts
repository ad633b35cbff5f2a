/**
 * The end of an import: the master becomes ready with the facts the agent found, and an uploaded
 * object goes only once the master is recorded; a failed import leaves no master record behind.
 */
import { recordKey } from '../store/db';
import { revise } from '../store/resources';
import type { OperationKind } from './kind';
import { outcomeOf } from './outcome';

export const importKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o = outcomeOf('import', outcome);
    const facts = { sizeBytes: o.sizeBytes, allocatedBytes: o.allocatedBytes, sha256: o.sha256, format: o.format };
    const m = await deps.masters.get(op.resource.id);
    const ready = revise(m!, { ...facts, filesystem: o.filesystem, status: 'ready', operation: undefined }, now);
    await deps.catalog.putMaster(ready);
    const upload = op.request.upload as string | undefined;
    return {
      writes: [deps.masters.saveWrite(ready), ...(upload ? [deps.db.delete(recordKey('upload', upload))] : [])],
      result: { master: ready.id, ...facts, filesystem: ready.filesystem },
      after: upload ? () => deps.catalog.deleteObject(op.request.key as string) : undefined,
    };
  },
  async undo(deps, op, error) {
    const m = await deps.masters.get(op.resource.id);
    const upload = op.request.upload as string | undefined;
    return [
      ...(m && m.status === 'importing' ? deps.masters.deleteWrites(m) : []),
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
