/**
 * What a finished operation writes. Success applies the lifecycle table's transition (and the
 * agent's outcome); failure undoes the reservations made when the request was accepted.
 */
import type { Deps } from '../deps';
import { apply, type CloneState, isEvent, plan } from '../domain/lifecycle';
import { recordKey, type Write } from '../store/db';
import type { AppliedChange, Clone, ImageFacts, Machine, Master, Operation } from '../store/records';
import { revise } from '../store/resources';
import { captureWrites } from './capture';
import type { UserError } from './outcomes';

export const cloneState = (c: Clone): CloneState => ({
  metastate: c.metastate,
  binding: c.binding,
  status: c.status === 'creating' ? 'ready' : c.status,
});

function facts(o: Record<string, unknown>): ImageFacts {
  return {
    sizeBytes: o.sizeBytes as number,
    allocatedBytes: o.allocatedBytes as number,
    sha256: o.sha256 as string,
    format: o.format as ImageFacts['format'],
  };
}

interface Committed {
  writes: Write[];
  result: Record<string, unknown>;
  after?: () => Promise<void>;
}

export async function commitWrites(deps: Deps, op: Operation, outcome: Record<string, unknown>): Promise<Committed> {
  const now = deps.now();
  if (op.kind === 'import') {
    const m = await deps.masters.get(op.resource.id);
    const ready = revise(
      m!,
      {
        ...facts(outcome),
        filesystem: outcome.filesystem as Master['filesystem'],
        status: 'ready',
        operation: undefined,
      },
      now,
    );
    await deps.catalog.putMaster(ready);
    const upload = op.request.upload as string | undefined;
    return {
      writes: [deps.masters.saveWrite(ready), ...(upload ? [deps.db.delete(recordKey('upload', upload))] : [])],
      result: { master: ready.id, ...facts(outcome), filesystem: ready.filesystem },
      // The uploaded object goes only once the master is recorded.
      after: upload ? () => deps.catalog.deleteObject(op.request.key as string) : undefined,
    };
  }
  if (op.kind === 'clone') {
    const c = await deps.clones.get(op.resource.id);
    const ready = revise(
      c!,
      {
        ...facts(outcome),
        method: outcome.method as string,
        path: (outcome.path as string) ?? c!.path,
        backing: outcome.backing as string | undefined,
        status: 'ready',
        lock: undefined,
      },
      now,
    );
    return {
      writes: [deps.clones.saveWrite(ready)],
      result: { clone: ready.id, method: ready.method, ...facts(outcome) },
    };
  }
  if (!isEvent(op.kind)) throw new Error(`operation ${op.id} has unknown kind ${op.kind}`);
  return commitEvent(deps, op, outcome, now);
}

async function commitEvent(
  deps: Deps,
  op: Operation,
  outcome: Record<string, unknown>,
  now: string,
): Promise<Committed> {
  const clone = (await deps.clones.get(op.resource.id))!;
  const t = plan(cloneState(clone), op.kind);
  const next = apply(cloneState(clone), t, outcome.booted === true);
  const req = op.request;
  const changes: Partial<Clone> = { ...next, lock: undefined, lastError: undefined };
  const writes: Write[] = [];
  const custom = clone.customization;
  const applied = typeof outcome.applied === 'number' ? outcome.applied : custom.applied;
  const appliedChanges = (outcome.changes as AppliedChange[] | undefined) ?? [];

  switch (op.kind) {
    case 'assign':
    case 'customize':
      changes.customization = {
        items: [...custom.items, ...((req.items as Clone['customization']['items']) ?? [])],
        variables: { ...custom.variables, ...((req.variables as Record<string, string>) ?? {}) },
        applied,
        changes: [...custom.changes.filter((c) => c.index < (req.from as number)), ...appliedChanges],
      };
      if (op.kind === 'assign') changes.machine = req.machine as string;
      break;
    case 'rollback':
      changes.customization = { ...custom, applied, changes: custom.changes.filter((c) => c.index < applied) };
      break;
    case 'unassign': {
      const m = await deps.machines.get(clone.machine!);
      if (m?.clone === clone.id) writes.push(deps.machines.saveWrite(revise<Machine>(m, { clone: undefined }, now)));
      changes.machine = undefined;
      break;
    }
    case 'activate':
      changes.bootCount = typeof outcome.bootCount === 'number' ? outcome.bootCount : clone.bootCount + 1;
      break;
    case 'capture': {
      const captured = await captureWrites(deps, op, clone, outcome, now);
      writes.push(...captured.writes);
      changes.capturedAs = captured.master.id;
      const updated = revise(clone, changes, now);
      return {
        writes: [deps.clones.saveWrite(updated), ...writes],
        result: { clone: clone.id, master: captured.master.id, version: captured.master.version },
        after: captured.after,
      };
    }
    case 'destroy':
      writes.push(deps.clones.releaseNameWrite(clone.name, clone.id));
      break;
  }
  const updated = revise(clone, changes, now);
  const { lock: _l, ...state } = updated;
  return {
    writes: [deps.clones.saveWrite(updated), ...writes],
    result: { clone: clone.id, metastate: state.metastate, binding: state.binding, status: state.status, ...outcome },
  };
}

export async function failureWrites(deps: Deps, op: Operation, error: UserError): Promise<Write[]> {
  const now = deps.now();
  if (op.kind === 'import') {
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
  }
  const clone = await deps.clones.get(op.resource.id);
  if (!clone) return [];
  if (op.kind === 'clone') return clone.status === 'creating' ? deps.clones.deleteWrites(clone) : [];
  if (clone.lock !== op.id) return [];
  const writes: Write[] = [
    deps.clones.saveWrite(revise(clone, { lock: undefined, lastError: { ...error, operation: op.id, at: now } }, now)),
  ];
  if (op.kind === 'assign') {
    const m = await deps.machines.get(op.request.machine as string);
    if (m?.clone === clone.id) writes.push(deps.machines.saveWrite(revise<Machine>(m, { clone: undefined }, now)));
  }
  return writes;
}
