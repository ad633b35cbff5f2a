/**
 * Reconciliation: what one discovery run saw, against the machine records of its site. Pure: it
 * decides, the commit (commit.ts) writes. Every observation ends in exactly one of `matched` (with
 * `changed` fields when the world moved), `new` (a machine in state `discovered`) or a conflict; a
 * record that should have been seen and was not counts a miss, and `missing` after enough of them.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import type { Binding } from '../../statemachines/lifecycle';
import type { Machine } from '../store/records';
import {
  type Evidence,
  type Identifier,
  keyOf,
  normalizeMac,
  normalizeUuid,
  observationIdentifiers,
  recordIdentifiers,
  score,
} from './evidence';
import { seedKeyOfRecord } from './seeds';
import type { DiscoverySettings } from './settings';

export type ConflictReason = 'ambiguous' | 'duplicate_identifier' | 'contradiction' | 'vanished';

export interface Candidate {
  machine: string;
  name: string;
  score: number;
  evidence: Evidence[];
}

export interface ConflictDraft {
  /** Stable across runs for the same observation (or vanished machine), so a re-run updates, never duplicates. */
  key: string;
  reason: ConflictReason;
  observation?: number;
  machine?: string;
  candidates: Candidate[];
  /** The identifiers this observation shares with another live machine of the run. */
  duplicates?: { type: string; value: string; observations: number[] }[];
  detail: string;
}

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface Reconciled {
  new: { observation: number }[];
  matched: { observation: number; machine: string; name: string; score: number }[];
  changed: { machine: string; name: string; fields: FieldChange[] }[];
  missing: { machine: string; name: string; misses: number; state: string }[];
  conflicts: ConflictDraft[];
  drift: { machine: string; name: string; clone: string; binding: Binding; expected: string; observed: string }[];
  /** Records seen again, with their miss count cleared (and a `missing` one restored). */
  seen: string[];
  /** Records expected and not seen: their miss count after this run. */
  misses: { machine: string; misses: number }[];
}

export interface ReconcileInput {
  observations: readonly MachineObservation[];
  /** Seed keys (seeds.ts seedKey) of the seeds that answered, by seed index; a seed that failed expects nothing. */
  answered: ReadonlyMap<number, string>;
  machines: readonly Machine[];
  /** The binding of each clone a machine carries. */
  bindings: ReadonlyMap<string, Binding>;
  /** Conflict keys an operator ignored: not raised again. */
  ignored: ReadonlySet<string>;
  settings: DiscoverySettings;
}

const ADDRESS_SETTINGS: Record<string, string[]> = {
  ipmi: ['host', 'port'],
  redfish: ['endpoint', 'systemId'],
  libvirt: ['uri', 'domain'],
  vsphere: ['endpoint', 'vm'],
};

/** The observation's conflict key: every identifier it has, sorted, with its kind. */
export function observationKey(o: MachineObservation): string {
  return `${o.kind}|${observationIdentifiers(o).map(keyOf).sort().join(',')}`;
}

/** Identifiers that two observations of the run share (address excepted: it names where, not who). */
function duplicatesOf(ids: Identifier[][]): Map<string, number[]> {
  const seen = new Map<string, Set<number>>();
  ids.forEach((list, i) => {
    for (const id of list) {
      if (id.type === 'address') continue;
      const k = keyOf(id);
      seen.set(k, (seen.get(k) ?? new Set()).add(i));
    }
  });
  return new Map([...seen].filter(([, on]) => on.size > 1).map(([k, on]) => [k, [...on]]));
}

export function reconcile(input: ReconcileInput): Reconciled {
  const { observations, machines, settings } = input;
  const out: Reconciled = {
    new: [],
    matched: [],
    changed: [],
    missing: [],
    conflicts: [],
    drift: [],
    seen: [],
    misses: [],
  };
  const obsIds = observations.map(observationIdentifiers);
  const duplicated = duplicatesOf(obsIds);
  // An identifier two records share says nothing about which one an observation is.
  const recIds = machines.map(recordIdentifiers);
  const sharedByRecords = duplicatesOf(recIds);
  const usable = (id: Identifier) => !duplicated.has(keyOf(id)) && !sharedByRecords.has(keyOf(id));

  // Only a record that shares an identifier can score above nothing: look those up, never all of them.
  const lookup = (id: Identifier) => (id.type === 'serial' ? `serial=${id.value.split('|')[0]}` : keyOf(id));
  const recUsable = recIds.map((ids) => ids.filter(usable));
  const index = new Map<string, number[]>();
  recUsable.forEach((ids, j) => {
    for (const id of ids) index.set(lookup(id), [...(index.get(lookup(id)) ?? []), j]);
  });
  const claims = new Map<string, number[]>();
  const ranked = observations.map((o, i) => {
    const mine = obsIds[i]!.filter(usable);
    const near = [...new Set(mine.flatMap((id) => index.get(lookup(id)) ?? []))];
    const candidates: Candidate[] = near
      .map((j) => ({ m: machines[j]!, ...score(mine, recUsable[j]!, settings) }))
      .filter((c) => c.evidence.some((e) => e.weight > 0))
      .map((c) => ({ machine: c.m.id, name: c.m.name, score: c.score, evidence: c.evidence }))
      .sort((a, b) => b.score - a.score);
    const [best, second] = candidates;
    const clear = best && best.score >= settings.matchScore && best.score - (second?.score ?? 0) >= settings.lead;
    if (clear) claims.set(best.machine, [...(claims.get(best.machine) ?? []), i]);
    const dups = obsIds[i]!.filter((id) => duplicated.has(keyOf(id))).map((id) => ({
      type: id.type,
      value: id.value,
      observations: duplicated.get(keyOf(id))!.filter((n) => n !== i),
    }));
    return { o, i, candidates, clear: Boolean(clear), dups };
  });

  const byId = new Map(machines.map((m) => [m.id, m]));
  const matchedIds = new Set<string>();
  for (const r of ranked) {
    const best = r.candidates[0];
    const twice = best && (claims.get(best.machine)?.length ?? 0) > 1;
    if (r.clear && best && !twice) {
      matchedIds.add(best.machine);
      const m = byId.get(best.machine)!;
      out.matched.push({ observation: r.i, machine: m.id, name: m.name, score: best.score });
      const fields = changesOf(m, r.o);
      if (fields.length) out.changed.push({ machine: m.id, name: m.name, fields });
      const drift = driftOf(m, r.o, input.bindings);
      if (drift) out.drift.push(drift);
      continue;
    }
    const conflict = conflictOf(r, Boolean(twice), settings);
    if (!conflict) out.new.push({ observation: r.i });
    else if (!input.ignored.has(conflict.key)) out.conflicts.push(conflict);
  }

  // Seen again: every record an observation is about, matched or not yet (a conflict still says it is there).
  const expected = new Set(input.answered.values());
  for (const m of machines) {
    if (matchedIds.has(m.id)) {
      if (m.presence?.misses || m.state === 'missing') out.seen.push(m.id);
      continue;
    }
    const key = seedKeyOfRecord(m);
    if (!key || !expected.has(key) || m.state === 'discovered' || inConflict(out.conflicts, m.id)) continue;
    const misses = (m.presence?.misses ?? 0) + 1;
    out.misses.push({ machine: m.id, misses });
    if (misses < settings.missingAfter) continue;
    const state = m.state === 'reserved' || m.state === 'quarantined' ? m.state : 'missing';
    out.missing.push({ machine: m.id, name: m.name, misses, state });
    const key2 = `vanished|${m.id}`;
    if (!input.ignored.has(key2))
      out.conflicts.push({
        key: key2,
        reason: 'vanished',
        machine: m.id,
        candidates: [{ machine: m.id, name: m.name, score: 0, evidence: [] }],
        detail: `machine ${m.name} was not found by ${misses} discoveries in a row of the seed that reports it (${key})`,
      });
  }
  return out;
}

function inConflict(conflicts: ConflictDraft[], machine: string): boolean {
  return conflicts.some((c) => c.candidates.some((k) => k.machine === machine && k.score > 0));
}

function conflictOf(
  r: { o: MachineObservation; i: number; candidates: Candidate[]; dups: ConflictDraft['duplicates'] & {} },
  twice: boolean,
  settings: DiscoverySettings,
): ConflictDraft | undefined {
  const base = { key: observationKey(r.o), observation: r.i, candidates: r.candidates };
  const best = r.candidates[0];
  if (r.dups.length)
    return {
      ...base,
      reason: 'duplicate_identifier',
      duplicates: r.dups,
      detail: `it shares ${r.dups.map((d) => `${d.type} ${d.value}`).join(', ')} with another machine of this run: such identifiers are no evidence`,
    };
  if (!best) return undefined;
  if (twice)
    return {
      ...base,
      reason: 'ambiguous',
      detail: `another machine of this run matches ${best.name} as well`,
    };
  if (best.evidence.some((e) => e.weight < 0))
    return {
      ...base,
      reason: 'contradiction',
      detail: `it shares ${best.evidence
        .filter((e) => e.weight > 0)
        .map((e) => e.type)
        .join(', ')} with ${best.name} but not ${best.evidence
        .filter((e) => e.weight < 0)
        .map((e) => `${e.type} (${e.value} here, ${e.theirs} there)`)
        .join(', ')}`,
    };
  const second = r.candidates[1];
  return {
    ...base,
    reason: 'ambiguous',
    detail:
      best.score < settings.matchScore
        ? `the best candidate, ${best.name}, scores ${best.score}, under the ${settings.matchScore} a match needs`
        : `${best.name} scores ${best.score} and ${second?.name} ${second?.score}: a match needs a lead of ${settings.lead}`,
  };
}

/** The record's fields the observation says otherwise, each from → to. */
export function changesOf(m: Machine, o: MachineObservation): FieldChange[] {
  const out: FieldChange[] = [];
  const ids = o.identifiers;
  const put = (field: string, from: unknown, to: unknown) => out.push({ field, from: from ?? null, to });
  if (ids.serial && ids.serial !== m.identity.serial) put('identity.serial', m.identity.serial, ids.serial);
  const uuid = normalizeUuid(ids.uuid);
  if (uuid && uuid !== normalizeUuid(m.identity.uuid)) put('identity.uuid', m.identity.uuid, uuid);
  const macs = [...new Set(ids.macs.flatMap((x) => normalizeMac(x) ?? []))].sort();
  const had = [...new Set((m.identity.macs ?? []).map((x) => normalizeMac(x) ?? x))].sort();
  if (macs.length && macs.join() !== had.join()) put('identity.macs', m.identity.macs, macs);
  for (const k of ADDRESS_SETTINGS[o.kind] ?? [])
    if (o.settings[k] !== undefined && String(o.settings[k]) !== String(m.settings[k] ?? ''))
      put(`settings.${k}`, m.settings[k], o.settings[k]);
  if (o.facts.cpus && o.facts.cpus !== m.cpus) put('cpus', m.cpus, o.facts.cpus);
  if (o.facts.memoryMiB && o.facts.memoryMiB !== m.memoryMiB) put('memoryMiB', m.memoryMiB, o.facts.memoryMiB);
  const model = m.inventory?.identifiers.model;
  if (model && ids.model && model !== ids.model) put('model', model, ids.model);
  if (m.state === 'missing') put('state', 'missing', m.presence?.stateBefore ?? 'ready');
  return out;
}

/** A machine whose power is not what its clone's binding says: active means on, any other binding off. */
function driftOf(m: Machine, o: MachineObservation, bindings: ReadonlyMap<string, Binding>) {
  const observed = o.facts.power;
  const binding = m.clone ? bindings.get(m.clone) : undefined;
  if (!observed || !m.clone || !binding) return undefined;
  const expected = binding === 'active' ? 'on' : 'off';
  return expected === observed
    ? undefined
    : { machine: m.id, name: m.name, clone: m.clone, binding, expected, observed };
}
