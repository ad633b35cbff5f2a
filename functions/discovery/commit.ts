/**
 * The end of a discovery: the agent's observations reconciled against the site's records, as of now
 * (records may have changed while the agent asked). The result is the diff; a dry run writes only the
 * discovery's own record. A retried commit reconciles again and so finds what an earlier try wrote.
 */
import type { DiscoverOutcome } from '../../statemachines/discovery';
import type { Deps } from '../deps';
import type { OperationKind } from '../operations/kind';
import { outcomeOf } from '../operations/outcome';
import type { Write } from '../store/db';
import type { Discovery } from '../store/discoveries';
import type { Clone, Operation } from '../store/records';
import { proposedName, type RunContext, recordWrites } from './apply';
import { writeVolumes } from './inventory';
import { correctPower } from './power';
import { conflictSummary, conflictWrites, observationSummary } from './queue';
import { observationKey, reconcile } from './reconcile';
import { type StoredSeed, seedKey } from './seeds';
import { settingsOf } from './settings';
import { volumeDiff } from './volumes';

export interface DiscoveryRequest {
  discovery: string;
  dryRun: boolean;
  scheduled: boolean;
  /** The stored inventory reconciled again (replay.ts): nothing was asked, so nothing counts as missed. */
  replay?: boolean;
  seeds: StoredSeed[];
}

/** The seed error codes that mean nothing answered at the seed's address. */
const UNREACHABLE = /unreachable|no_answer|timeout/;

/** A transaction takes 100 writes; the operation, its audit entry and the discovery record go last. */
const CHUNK = 90;

async function discoveryRecord(
  deps: Deps,
  op: Operation,
  status: Discovery['status'],
  counts?: Record<string, number>,
) {
  const d = await deps.discoveries.get((op.request as unknown as DiscoveryRequest).discovery);
  if (!d) return [];
  const now = deps.now();
  return [deps.discoveries.saveWrite({ ...d, status, ...(counts ? { counts } : {}), updatedAt: now, rev: d.rev + 1 })];
}

/** How many entries of each of the diff's lists the operation's result keeps; the rest is in the S3 diff. */
export const RESULT_ENTRIES = 100;

function capped<T extends Record<string, unknown>>(result: T): T & { truncated?: string[] } {
  const out: Record<string, unknown> = { ...result };
  const truncated: string[] = [];
  for (const [k, v] of Object.entries(result))
    if (Array.isArray(v) && v.length > RESULT_ENTRIES) {
      out[k] = v.slice(0, RESULT_ENTRIES);
      truncated.push(k);
    }
  return { ...(out as T), ...(truncated.length ? { truncated } : {}) };
}

export const discoveryKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const o: DiscoverOutcome = outcomeOf('discover', outcome);
    const req = op.request as unknown as DiscoveryRequest;
    const [site, all, clones, conflicts] = await Promise.all([
      deps.sites.find(op.site),
      deps.machines.listAll(),
      deps.clones.listAll(),
      deps.discoveries.conflicts(),
    ]);
    const settings = settingsOf(site?.discovery?.settings);
    const machines = all.filter((m) => m.site === op.site);
    const mine = conflicts.filter((c) => c.site === op.site);
    const run: RunContext = {
      site: op.site,
      discovery: req.discovery,
      now,
      observations: o.machines,
      seeds: req.seeds,
      machines,
      clones: new Map<string, Clone>(clones.map((c) => [c.id, c])),
    };
    // A seed that gave no answer at all counts as having seen none of its machines (a BMC that is gone
    // answers nothing); one that answered with an error (refused credentials…) says nothing of them.
    const answered = new Map(
      o.seeds
        .filter((r) => !req.replay && (!r.error || UNREACHABLE.test(r.error.code)) && r.kind !== 'storage')
        .map((r) => [r.seed, seedKey(r.kind, req.seeds[r.seed]!.address)]),
    );
    const rec = reconcile({
      observations: o.machines,
      answered,
      machines,
      bindings: new Map(clones.map((c) => [c.id, c.binding])),
      ignored: new Set(mine.filter((c) => c.resolution?.action === 'ignore').map((c) => c.key)),
      settings,
    });
    const volumes = await volumeDiff(deps, o, req.seeds);
    const taken = new Set(all.map((m) => m.name.toLowerCase()));
    const names = new Map(rec.new.map((n) => [n.observation, proposedName(o.machines[n.observation]!, taken)]));
    const records = req.dryRun ? { writes: [], created: [] } : recordWrites(deps, run, rec, names);
    const created = new Map(records.created.map((m) => [m.name, m.id]));
    const settled = new Map([
      ...rec.matched.map((m) => [observationKey(o.machines[m.observation]!), m.machine] as const),
      ...rec.new.flatMap((n) => {
        const id = created.get(names.get(n.observation)!);
        return id ? [[observationKey(o.machines[n.observation]!), id] as const] : [];
      }),
    ]);
    const asked = new Set(
      o.seeds.filter((r) => !r.error && r.kind !== 'storage').map((r) => seedKey(r.kind, req.seeds[r.seed]!.address)),
    );
    const queue = req.dryRun
      ? { writes: [], raised: [] }
      : await conflictWrites(deps.discoveries, run, rec, mine, settled, asked);
    const result = {
      discovery: req.discovery,
      dryRun: req.dryRun,
      new: rec.new.map((n) => {
        const name = names.get(n.observation)!;
        const obs = o.machines[n.observation]!;
        return { ...(created.get(name) ? { machine: created.get(name) } : {}), name, ...observationSummary(obs) };
      }),
      matched: rec.matched,
      changed: [...rec.changed, ...volumes.changed],
      missing: rec.missing,
      conflicts: req.dryRun
        ? rec.conflicts.map(({ key: _, observation, ...c }) => ({
            ...c,
            ...(observation !== undefined ? { observation: observationSummary(o.machines[observation]!) } : {}),
          }))
        : queue.raised.map(conflictSummary),
      orphans: volumes.orphans,
      ghosts: volumes.ghosts,
      drift: rec.drift,
      power: settings.power,
      seeds: o.seeds,
    };
    const counts = Object.fromEntries(
      (['new', 'matched', 'changed', 'missing', 'conflicts', 'orphans', 'ghosts', 'drift'] as const).map((k) => [
        k,
        result[k].length,
      ]),
    );
    // The whole diff goes to S3 first; the operation keeps the first entries of each list (an item holds 400 KB).
    const diffKey = `discoveries/${req.discovery}/diff.json`;
    await deps.catalog.putText(diffKey, JSON.stringify({ ...result, counts }));
    const writes: Write[] = [...records.writes, ...queue.writes];
    // More than one transaction takes: all but the last chunk first. Each is whole; a retry reconciles again.
    while (writes.length > CHUNK) await deps.db.transact(writes.splice(0, CHUNK));
    return {
      writes: [
        ...writes,
        ...(await discoveryRecord(deps, op, 'succeeded', counts)),
        deps.discoveries.unlockWrite(op.site),
      ],
      result: { ...capped(result), counts, diff: diffKey },
      after: req.dryRun
        ? undefined
        : async () => {
            for (const l of volumes.listed)
              await writeVolumes(deps, op.site, { ...l, discovery: req.discovery, at: now });
            if (settings.power === 'correct') for (const d of rec.drift) await correctPower(deps, d, req.discovery);
          },
    };
  },
  async undo(deps, op) {
    return [...(await discoveryRecord(deps, op, 'failed')), deps.discoveries.unlockWrite(op.site)];
  },
};
