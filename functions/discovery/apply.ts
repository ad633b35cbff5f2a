/**
 * What a reconciled run changes in the records: matched machines take what the world says now (with
 * a fresh inventory snapshot), new ones are created `discovered`, misses are counted and a machine
 * missed often enough becomes `missing` (its clone is flagged), one seen again is restored.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import type { Deps } from '../deps';
import type { Write } from '../store/db';
import { newId } from '../store/ids';
import type { Clone, Machine, MachineInventory } from '../store/records';
import { revise } from '../store/resources';
import { normalizeMac, normalizeUuid } from './evidence';
import type { FieldChange, Reconciled } from './reconcile';
import { type StoredSeed, seedKey } from './seeds';

export interface RunContext {
  site: string;
  discovery: string;
  now: string;
  observations: readonly MachineObservation[];
  /** The request's seeds, by index, with their credential references. */
  seeds: readonly StoredSeed[];
  machines: readonly Machine[];
  clones: ReadonlyMap<string, Clone>;
}

export function snapshotOf(run: RunContext, o: MachineObservation): MachineInventory {
  const seed = run.seeds[o.seed]!;
  return {
    discovery: run.discovery,
    seenAt: run.now,
    seed: seedKey(seed.kind, seed.address),
    ...(o.name ? { name: o.name } : {}),
    identifiers: o.identifiers,
    facts: o.facts,
  };
}

/** The credentials a machine found through `seed` uses: the seed's own, by reference, under the driver's names. */
function credentialsFor(kind: MachineObservation['kind'], seed: StoredSeed): Record<string, string> | undefined {
  const c = seed.credentials ?? {};
  if (kind === 'ipmi' && c.password) return { ...(c.user ? { user: c.user } : {}), password: c.password };
  if (kind === 'redfish' && c.password) return { ...(c.user ? { username: c.user } : {}), password: c.password };
  if (kind === 'vsphere' && c.password) return { ...(c.user ? { username: c.user } : {}), password: c.password };
  if (kind === 'amt' && c.password) return { ...(c.user ? { user: c.user } : {}), password: c.password };
  if (kind === 'bladecenter' && c.community) return { community: c.community };
  if (kind === 'bladecenter' && c.user && c.password)
    return { user: c.user, password: c.password, ...(c.privPassword ? { privPassword: c.privPassword } : {}) };
  return undefined;
}

/** A name for what was found: its own name, serial or address, made fit for a name and unique. */
export function proposedName(o: MachineObservation, taken: Set<string>): string {
  const ids = o.identifiers;
  const hint = o.name ?? ids.serial ?? ids.uuid?.slice(0, 8) ?? ids.bmcAddress ?? 'machine';
  const slug = `${o.kind}-${hint}`
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 56);
  let name = slug;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${slug}-${n}`;
  taken.add(name.toLowerCase());
  return name;
}

export function discoveredMachine(run: RunContext, o: MachineObservation, name: string): Machine {
  const macs = [...new Set(o.identifiers.macs.flatMap((m) => normalizeMac(m) ?? []))];
  const uuid = normalizeUuid(o.identifiers.uuid);
  const credentials = credentialsFor(o.kind, run.seeds[o.seed]!);
  return {
    id: newId('machine'),
    name,
    rev: 1,
    createdAt: run.now,
    updatedAt: run.now,
    site: run.site,
    kind: o.kind,
    arch: 'x86_64',
    cpus: o.facts.cpus || 1,
    memoryMiB: o.facts.memoryMiB || 1024,
    identity: {
      ...(macs.length ? { macs } : {}),
      ...(o.identifiers.serial ? { serial: o.identifiers.serial } : {}),
      ...(uuid ? { uuid } : {}),
    },
    settings: o.settings,
    ...(credentials ? { credentials } : {}),
    state: 'discovered',
    inventory: snapshotOf(run, o),
    presence: { misses: 0, lastSeen: run.now },
  };
}

/** `m` with the changed fields set to what was observed. */
export function withChanges(m: Machine, fields: readonly FieldChange[]): Partial<Machine> {
  const out: Partial<Machine> = {};
  for (const f of fields) {
    if (f.field.startsWith('identity.'))
      out.identity = { ...m.identity, ...out.identity, [f.field.slice(9)]: f.to as never };
    else if (f.field.startsWith('settings.'))
      out.settings = { ...m.settings, ...out.settings, [f.field.slice(9)]: f.to };
    else if (f.field === 'cpus' || f.field === 'memoryMiB') out[f.field] = f.to as number;
  }
  return out;
}

/** The machine and clone writes of a run; `names` are the new machines' names, by observation. */
export function recordWrites(deps: Deps, run: RunContext, rec: Reconciled, names: ReadonlyMap<number, string>) {
  const writes: Write[] = [];
  const created: Machine[] = [];
  const byId = new Map(run.machines.map((m) => [m.id, m]));
  const changed = new Map(rec.changed.map((c) => [c.machine, c.fields]));
  const cloneWrite = (m: Machine, flag: Clone['machineMissing']) => {
    const clone = m.clone ? run.clones.get(m.clone) : undefined;
    if (!clone || Boolean(clone.machineMissing) === Boolean(flag)) return;
    writes.push(deps.clones.saveWrite(revise<Clone>(clone, { machineMissing: flag }, run.now)));
  };
  // New machines first, in pairs (record, name): a chunked commit (commit.ts) keeps each pair whole.
  for (const { observation } of rec.new) {
    const m = discoveredMachine(run, run.observations[observation]!, names.get(observation)!);
    created.push(m);
    writes.push(...deps.machines.createWrites(m));
  }
  for (const { observation, machine } of rec.matched) {
    const m = byId.get(machine)!;
    const o = run.observations[observation]!;
    const back = m.state === 'missing';
    writes.push(
      deps.machines.saveWrite(
        revise<Machine>(
          m,
          {
            ...withChanges(m, changed.get(m.id) ?? []),
            inventory: snapshotOf(run, o),
            presence: { misses: 0, lastSeen: run.now },
            ...(back ? { state: m.presence?.stateBefore ?? 'ready' } : {}),
          },
          run.now,
        ),
      ),
    );
    cloneWrite(m, undefined);
  }
  const missing = new Map(rec.missing.map((x) => [x.machine, x]));
  for (const { machine, misses } of rec.misses) {
    const m = byId.get(machine)!;
    const gone = missing.get(machine);
    const becomes = gone && m.state !== 'missing' && gone.state === 'missing';
    const presence = {
      ...m.presence,
      misses,
      ...(gone && !m.presence?.missingSince ? { missingSince: run.now } : {}),
      ...(becomes ? { stateBefore: m.state ?? 'ready' } : {}),
    };
    writes.push(
      deps.machines.saveWrite(revise<Machine>(m, { presence, ...(becomes ? { state: 'missing' } : {}) }, run.now)),
    );
    if (gone) cloneWrite(m, { machine: m.id, since: presence.missingSince ?? run.now, discovery: run.discovery });
  }
  return { writes, created };
}
