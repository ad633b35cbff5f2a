/**
 * The conflict queue: what reconciliation could not decide, kept until an operator resolves it.
 * A run raising the same conflict again updates its entry (candidates, last seen, runs); an ignored
 * one is not raised again; a vanished machine's entry is cleared when a run finds it again.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import type { Write } from '../store/db';
import { type Conflict, conflictId, type Discoveries } from '../store/discoveries';
import type { RunContext } from './apply';
import type { ConflictDraft, Reconciled } from './reconcile';

/** What a run's result says of a conflict: enough to decide without opening it. */
export function conflictSummary(c: Conflict) {
  return {
    id: c.id,
    reason: c.reason,
    detail: c.detail,
    ...(c.observation ? { observation: observationSummary(c.observation) } : {}),
    ...(c.machine ? { machine: c.machine } : {}),
    candidates: c.candidates,
    ...(c.duplicates ? { duplicates: c.duplicates } : {}),
  };
}

export function observationSummary(o: MachineObservation) {
  return {
    kind: o.kind,
    ...(o.name ? { name: o.name } : {}),
    identifiers: o.identifiers,
    facts: o.facts,
    settings: o.settings,
  };
}

export async function conflictWrites(
  store: Discoveries,
  run: RunContext,
  rec: Reconciled,
  existing: readonly Conflict[],
): Promise<{ writes: Write[]; raised: Conflict[] }> {
  const byId = new Map(existing.map((c) => [c.id, c]));
  const writes: Write[] = [];
  const raised: Conflict[] = [];
  for (const draft of rec.conflicts) {
    const id = await conflictId(run.site, draft.key);
    const next = raise(run, id, draft, byId.get(id));
    raised.push(next);
    writes.push(store.conflictWrite(next));
  }
  // A vanished machine found again: its entry is cleared, not left for an operator to wonder about.
  for (const machine of rec.seen) {
    const c = byId.get(await conflictId(run.site, `vanished|${machine}`));
    if (c?.status !== 'open') continue;
    writes.push(
      store.conflictWrite({
        ...c,
        status: 'resolved',
        resolution: { action: 'cleared', machine, by: `discovery:${run.discovery}`, at: run.now },
        updatedAt: run.now,
        rev: c.rev + 1,
      }),
    );
  }
  return { writes, raised };
}

function raise(run: RunContext, id: string, draft: ConflictDraft, before: Conflict | undefined): Conflict {
  const { observation: index, ...rest } = draft;
  const o = index === undefined ? undefined : run.observations[index];
  const seed = o ? run.seeds[o.seed] : undefined;
  const common = {
    ...rest,
    id,
    site: run.site,
    status: 'open' as const,
    ...(o ? { observation: o } : {}),
    ...(seed ? { seed } : {}),
    discovery: run.discovery,
    lastSeen: run.now,
    updatedAt: run.now,
  };
  if (!before) return { ...common, firstSeen: run.now, runs: 1, createdAt: run.now, rev: 1 };
  // Raised again after a resolution that did not settle it (merged into a record that changed since): open again.
  const { resolution: _, ...kept } = before;
  return { ...kept, ...common, runs: before.runs + 1, rev: before.rev + 1 };
}
