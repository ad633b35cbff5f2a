/**
 * The conflict queue's operator side: `GET /v1/conflicts`, `POST /v1/conflicts/{id}/resolve` and a
 * discovered machine's `POST /v1/machines/{id}/adopt`. A resolution is idempotent (the same one again
 * answers as the first did) and audited; it and what it does to a machine record are one transaction.
 *
 * - merge: the observation is that record; it takes what was observed (MACs are added to its own).
 * - replace: the observation is that record with new hardware; its identity becomes the observed one.
 * - new: the observation is a machine of its own, created `discovered`.
 * - ignore: nothing changes; later runs do not raise it again.
 */
import { z } from 'zod';
import { machineView } from '../actions/views';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { Deps } from '../deps';
import { machineFields, name, ref } from '../domain/schemas';
import { TransactionConflict, type Write } from '../store/db';
import type { Conflict, ConflictAction } from '../store/discoveries';
import type { Machine } from '../store/records';
import { revise } from '../store/resources';
import { discoveredMachine, proposedName, type RunContext, snapshotOf, withChanges } from './apply';
import {
  ConflictNotFoundError,
  ConflictResolvedError,
  MachineNotDiscoveredError,
  ResolutionInvalidError,
} from './errors';
import { isEvidenceMac, normalizeMac } from './evidence';
import { conflictSummary } from './queue';
import { changesOf } from './reconcile';
import type { StoredSeed } from './seeds';

export const resolveConflict = z
  .object({
    action: z.enum(['merge', 'new', 'ignore', 'replace']),
    /** The record `merge` and `replace` act on: an id or a name. */
    candidate: ref.optional(),
  })
  .strict();

export const listConflicts = z
  .object({
    status: z.enum(['open', 'resolved', 'all']).default('open'),
    site: z.string().max(200).optional(),
  })
  .strict();

export const adoptMachine = z.object({ name: name.optional(), tags: machineFields.shape.tags }).strict();

export function conflictView(c: Conflict) {
  const { key: _, observation, seed, ...rest } = c;
  return { ...rest, ...(seed ? { seed: { kind: seed.kind, address: seed.address } } : {}), ...conflictSummary(c) };
}

export async function listConflictsAction(deps: Deps, q: z.infer<typeof listConflicts>) {
  const all = await deps.discoveries.conflicts();
  const items = all
    .filter((c) => (q.status === 'all' || c.status === q.status) && (!q.site || c.site === q.site))
    .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  return { items: items.map(conflictView) };
}

export async function getConflict(deps: Deps, id: string) {
  const c = await deps.discoveries.conflict(id);
  if (!c) throw new ConflictNotFoundError(id);
  return conflictView(c);
}

const ALLOWED: Record<Conflict['reason'], ConflictAction[]> = {
  ambiguous: ['merge', 'new', 'ignore', 'replace'],
  contradiction: ['merge', 'new', 'ignore', 'replace'],
  duplicate_identifier: ['merge', 'new', 'ignore', 'replace'],
  vanished: ['ignore'],
};

function sameResolution(c: Conflict, action: ConflictAction, candidate: Machine | undefined) {
  return c.resolution?.action === action && (c.resolution.candidate ?? undefined) === candidate?.id;
}

export async function resolveConflictAction(
  deps: Deps,
  p: Principal | undefined,
  id: string,
  body: z.infer<typeof resolveConflict>,
) {
  for (let attempt = 1; ; attempt++) {
    const c = await deps.discoveries.conflict(id);
    if (!c) throw new ConflictNotFoundError(id);
    if (!ALLOWED[c.reason].includes(body.action))
      throw new ResolutionInvalidError(
        `body.action: a ${c.reason} conflict is resolved with ${ALLOWED[c.reason].join(' or ')}, not ${body.action}`,
      );
    const needs = body.action === 'merge' || body.action === 'replace';
    if (needs !== Boolean(body.candidate))
      throw new ResolutionInvalidError(
        needs
          ? `body.candidate: ${body.action} names the record it acts on; give one of ${c.candidates.map((k) => k.name).join(', ') || 'the site’s machines'}`
          : `body.candidate: ${body.action} acts on no record; leave it out`,
      );
    const candidate = body.candidate ? await deps.machines.require(body.candidate) : undefined;
    if (candidate && candidate.site !== c.site)
      throw new ResolutionInvalidError(
        `body.candidate: machine ${candidate.name} is of site ${candidate.site}, not ${c.site}`,
      );
    if (c.status === 'resolved') {
      if (sameResolution(c, body.action, candidate)) return conflictView(c);
      throw new ConflictResolvedError(c.id, { action: c.resolution!.action, candidate: c.resolution?.candidate });
    }
    const now = deps.now();
    const { writes, machine, note } = await machineWrites(deps, c, body.action, candidate, now);
    const resolved: Conflict = {
      ...c,
      status: 'resolved',
      resolution: {
        action: body.action,
        ...(candidate ? { candidate: candidate.id } : {}),
        ...(machine ? { machine } : {}),
        ...(note ? { note } : {}),
        by: actorOf(p),
        at: now,
      },
      updatedAt: now,
      rev: c.rev + 1,
    };
    const audit = deps.audit.entry({
      at: now,
      actor: actorOf(p),
      action: 'resolve_conflict',
      resource: { kind: 'conflict', id: c.id, name: c.id },
      outcome: 'succeeded',
      detail: `${body.action}${candidate ? ` with ${candidate.name}` : ''}${machine ? ` (machine ${machine})` : ''}`,
    });
    try {
      await deps.db.transact([deps.discoveries.conflictWrite(resolved), ...writes, audit]);
      return conflictView(resolved);
    } catch (e) {
      // Resolved (or a record changed) meanwhile: read again, and answer as that resolution would.
      if (!(e instanceof TransactionConflict) || attempt >= 3) throw e;
    }
  }
}

/** The run's seeds as `snapshotOf` and `discoveredMachine` read them: the observation's, at its index. */
function seedAt(index: number, seed: StoredSeed | undefined): StoredSeed[] {
  const seeds: StoredSeed[] = [];
  seeds[index] = seed ?? { kind: 'ipmi', address: '' };
  return seeds;
}

async function machineWrites(
  deps: Deps,
  c: Conflict,
  action: ConflictAction,
  candidate: Machine | undefined,
  now: string,
): Promise<{ writes: Write[]; machine?: string; note?: string }> {
  const o = c.observation;
  if (action === 'ignore' || !o) return { writes: [] };
  const run: RunContext = {
    site: c.site,
    discovery: c.discovery,
    now,
    observations: [o],
    seeds: seedAt(o.seed, c.seed),
    machines: [],
    clones: new Map(),
  };
  if (action === 'new') {
    const taken = new Set((await deps.machines.listAll()).map((m) => m.name.toLowerCase()));
    const m = discoveredMachine(run, o, proposedName(o, taken));
    return { writes: deps.machines.createWrites(m), machine: m.id };
  }
  const m = candidate!;
  const fields = changesOf(m, o);
  const changes = withChanges(m, fields);
  if (action === 'merge' && changes.identity?.macs)
    changes.identity.macs = [
      ...new Set([...(m.identity.macs ?? []).map((x) => normalizeMac(x) ?? x), ...changes.identity.macs]),
    ];
  if (action === 'replace')
    changes.identity = {
      ...(m.identity.initiatorName ? { initiatorName: m.identity.initiatorName } : {}),
      ...(o.identifiers.serial ? { serial: o.identifiers.serial } : {}),
      ...(changes.identity?.uuid || m.identity.uuid ? { uuid: changes.identity?.uuid ?? m.identity.uuid } : {}),
      macs: [...new Set(o.identifiers.macs.flatMap((x) => normalizeMac(x) ?? []))],
    };
  // A burned-in MAC another record holds stays that record's (machine-macs.ts): it is named, not taken.
  const held = await heldElsewhere(deps, m, changes.identity?.macs ?? []);
  if (held.length && changes.identity) changes.identity.macs = changes.identity.macs?.filter((x) => !held.includes(x));
  const next = revise<Machine>(
    m,
    { ...changes, inventory: snapshotOf(run, o), presence: { misses: 0, lastSeen: now } },
    now,
  );
  const note = held.length
    ? `MAC ${held.join(', ')} stays with the machine that holds it; remove it there and resolve again if it is this one's`
    : undefined;
  return { writes: [deps.machines.saveWrite(next)], machine: m.id, ...(note ? { note } : {}) };
}

async function heldElsewhere(deps: Deps, m: Machine, macs: readonly string[]): Promise<string[]> {
  const mine = new Set(macs.filter(isEvidenceMac));
  if (!mine.size) return [];
  const others = (await deps.machines.listAll()).filter((x) => x.id !== m.id);
  return [...mine].filter((mac) => others.some((x) => (x.identity.macs ?? []).some((y) => normalizeMac(y) === mac)));
}

/** `POST /v1/machines/{id}/adopt`: a discovered machine becomes ready (and may be renamed and tagged on the way). */
export async function adoptMachineAction(
  deps: Deps,
  p: Principal | undefined,
  ref: string,
  body: z.infer<typeof adoptMachine>,
) {
  const m = await deps.machines.require(ref);
  if (m.state !== 'discovered') {
    if (m.state === 'ready' && m.presence?.lastSeen) return machineView(m);
    throw new MachineNotDiscoveredError(m.name, m.state ?? 'ready');
  }
  const now = deps.now();
  const newName = body.name ?? m.name;
  const next = revise<Machine>(m, { state: 'ready', name: newName, ...(body.tags ? { tags: body.tags } : {}) }, now);
  const audit = deps.audit.entry({
    at: now,
    actor: actorOf(p),
    action: 'adopt',
    resource: { kind: 'machine', id: m.id, name: newName },
    outcome: 'succeeded',
  });
  const rename =
    newName === m.name ? [] : [deps.machines.nameWrite(newName, m.id), deps.machines.releaseNameWrite(m.name, m.id)];
  await deps.machines.transactNamed([deps.machines.saveWrite(next), ...rename, audit], newName, 1);
  return machineView(next);
}
