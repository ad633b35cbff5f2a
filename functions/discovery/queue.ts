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
import { type StoredSeed, seedKey } from './seeds';

const seedKeyOf = (s: StoredSeed) => seedKey(s.kind, s.address);

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

/**
 * The queue's writes for a run. `settled` maps the key of each observation the run matched or made
 * new to that machine; `asked` are the seed keys that answered: an open conflict of one of them that
 * the run did not raise again is cleared (the world or the records changed so that it decides now).
 */
export async function conflictWrites(
  store: Discoveries,
  run: RunContext,
  rec: Reconciled,
  existing: readonly Conflict[],
  settled: ReadonlyMap<string, string>,
  asked: ReadonlySet<string>,
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
  const clear = (c: Conflict, machine?: string) =>
    writes.push(
      store.conflictWrite({
        ...c,
        status: 'resolved',
        resolution: {
          action: 'cleared',
          ...(machine ? { machine } : {}),
          by: `discovery:${run.discovery}`,
          at: run.now,
        },
        updatedAt: run.now,
        rev: c.rev + 1,
      }),
    );
  // A vanished machine found again: its entry is cleared, not left for an operator to wonder about.
  for (const machine of rec.seen) {
    const c = byId.get(await conflictId(run.site, `vanished|${machine}`));
    if (c?.status === 'open') clear(c, machine);
  }
  const again = new Set(raised.map((c) => c.id));
  for (const c of existing)
    if (c.status === 'open' && c.reason !== 'vanished' && !again.has(c.id) && c.seed && asked.has(seedKeyOf(c.seed)))
      clear(c, settled.get(c.key));
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
