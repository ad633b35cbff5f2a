/**
 * `PATCH /v1/machines/{id}`: a JSON merge patch of the machine's fields (http/merge-patch.ts). While
 * the machine carries a clone, what the clone was checked against and what attach set up stay put.
 */
import type { z } from 'zod';
import { holdsDisk, type MachineKind } from '../../statemachines/kinds';
import { type Binding, bindings } from '../../statemachines/lifecycle';
import type { Deps } from '../deps';
import { unmetRequirements } from '../domain/requirements';
import { type machineFields, patchedMachine } from '../domain/schemas';
import { BusyError, MachineBoundError, StaleRecordError } from '../errors';
import { applyMergePatch, deepEqual, type Patchable } from '../http/merge-patch';
import { stateOf } from '../scenarios/machine-state';
import { recordKey, TransactionConflict, type Write } from '../store/db';
import type { Clone, Machine } from '../store/records';
import { writePatchedCredentials } from './machine-credentials';
import { checkMacsFree } from './machine-macs';
import { CREDENTIAL_SET, machineView } from './views';

type Fields = z.infer<typeof machineFields>;

const patchable: Patchable<Fields> = {
  kind: 'machine',
  schema: patchedMachine,
  fixed: {
    name: 'a machine keeps its name; register a machine under the new name (and delete this one) instead',
    clone: 'is set by the assign and unassign events of the clone; send those instead',
    state:
      'is set by the scenarios (reserved, quarantined) and discoveries (discovered, missing); release a quarantined machine with POST /v1/machines/{id}/release, adopt a discovered one with POST /v1/machines/{id}/adopt',
    reservation: 'is set by the scenario that reserved the machine',
    quarantine: 'is set when a deployment fails on the machine; release it with POST /v1/machines/{id}/release',
    standby: 'is set by a reassignment that keeps the old clone',
    history: 'is written by the assign and unassign events',
    inventory: 'is what the last discovery saw of the machine; run a discovery (POST /v1/discoveries) to refresh it',
    presence: 'is kept by the discoveries that look for the machine',
  },
};

/**
 * Fields that cannot change while the machine carries a clone, from which binding of the clone on,
 * and why. From assign on: what the clone was placed and checked against. From attach on: what the
 * storage and the machine were set up with: the iSCSI target lets in `identity.initiatorName` only,
 * the libvirt domain carries the MACs and UUID, Redfish found the system by them. The settings
 * address the machine that detach and power off must reach again: of a kind whose machine holds the
 * disk (a domain, a VM; kinds.ts `holdsDisk`) they name what attach gave the disk to, so they are
 * fixed from attach on; of the others attach set up nothing on the machine, so a wrong BMC address
 * or slot can be corrected until power on. Credentials may change at any time (a rotated BMC
 * password), and cpus and memory as long as the clone's master's requirements still hold.
 */
type Rule = { from: Binding; why: string };
const fixedWhileBound: Record<'kind' | 'site' | 'arch' | 'identity' | 'settings', (kind: MachineKind) => Rule> = {
  kind: () => ({ from: 'assigned', why: 'the clone was assigned to this kind of machine' }),
  site: () => ({ from: 'assigned', why: "the clone's storage is on this site" }),
  arch: () => ({
    from: 'assigned',
    why: "the clone was checked against this architecture for its master's requirements",
  }),
  identity: () => ({
    from: 'attached',
    why: 'the storage lets the machine in by it (the iSCSI ACL names identity.initiatorName) and the machine was set up with it',
  }),
  settings: (kind) =>
    holdsDisk[kind]
      ? {
          from: 'attached',
          why: 'they name the domain or VM that holds the disk, which detach and power off must reach',
        }
      : { from: 'active', why: 'they address the running machine, which power off must reach' },
};

const rank = (b: Binding) => Object.keys(bindings).indexOf(b);

/** The dotted path of the first member that differs between `a` and `b`, if any. */
function firstChange(a: unknown, b: unknown, path: string): string | undefined {
  if (deepEqual(a, b)) return undefined;
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(a) || !isMap(b)) return path;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const inner = firstChange(a[key], b[key], `${path}.${key}`);
    if (inner) return inner;
  }
  return path;
}

/** Credentials sent back as `(set)` are kept as they are: a client may send back what it read. */
function keepSetCredentials(patch: Record<string, unknown>): Record<string, unknown> {
  const c = patch.credentials;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return patch;
  const kept = Object.entries(c).filter(([, v]) => v !== CREDENTIAL_SET);
  return { ...patch, credentials: Object.fromEntries(kept) };
}

/** Refuses a change the bound clone cannot live with; the write that keeps the clone as it was read. */
async function checkBound(deps: Deps, m: Machine, next: Fields): Promise<Write[]> {
  const clone: Clone | undefined = await deps.clones.get(m.clone!);
  if (!clone) return [];
  // A machine that carries a clone is at least assigned, even while the assign still runs.
  const binding = rank(clone.binding) < rank('assigned') ? 'assigned' : clone.binding;
  for (const [field, ruleOf] of Object.entries(fixedWhileBound)) {
    const rule = ruleOf(m.kind);
    const changed = firstChange(m[field as keyof Fields], next[field as keyof Fields], field);
    if (!changed) continue;
    if (clone.lock) throw new BusyError('clone', clone.id, clone.lock);
    if (rank(binding) >= rank(rule.from)) throw new MachineBoundError(m.name, clone.name, binding, changed, rule.why);
  }
  if (next.cpus !== m.cpus || next.memoryMiB !== m.memoryMiB) {
    const master = await deps.masters.get(clone.master);
    const unmet = master ? unmetRequirements(master.requirements, next) : [];
    if (unmet.length)
      throw new MachineBoundError(
        m.name,
        clone.name,
        binding,
        next.cpus !== m.cpus ? 'cpus' : 'memoryMiB',
        `the clone's master needs ${unmet.join('; ')}`,
      );
  }
  return [deps.db.atRev(recordKey('clone', clone.id), clone.rev)];
}

export async function patchMachineAction(deps: Deps, ref: string, patch: Record<string, unknown>) {
  const m = await deps.machines.require(ref);
  // The fields the server keeps are not the client's to change; one sent back as it was read is fine.
  const {
    id,
    rev,
    createdAt,
    updatedAt: _updatedAt,
    clone,
    state,
    reservation,
    quarantine,
    standby,
    history,
    inventory,
    presence,
    ...fields
  } = m;
  const owned = Object.fromEntries(
    Object.entries({ clone, state, reservation, quarantine, standby, history, inventory, presence }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const kept = keepSetCredentials(patch);
  const next = applyMergePatch(patchable, { ...m, state: stateOf(m) }, fields as Fields, kept);
  if (next.site !== m.site) next.site = (await deps.sites.require(next.site)).name;
  const held = clone ? await checkBound(deps, m, next) : [];
  await checkMacsFree(deps, { ...next, id });
  // Every check is done: the new values go to the secret store, then the record that references them.
  const credentials = await writePatchedCredentials(deps, m, next, kept);
  const { credentials: _values, ...rest } = next;
  const updated: Machine = {
    id,
    rev: rev + 1,
    createdAt,
    updatedAt: deps.now(),
    ...owned,
    ...rest,
    ...(credentials.refs ? { credentials: credentials.refs } : {}),
  };
  try {
    await deps.db.transact([deps.machines.saveWrite(updated), ...held]);
  } catch (e) {
    await credentials.undo();
    if (e instanceof TransactionConflict)
      throw e.failed.includes(0) ? new StaleRecordError('machine', id) : new StaleRecordError('clone', clone!);
    throw e;
  }
  await credentials.commit();
  return machineView(updated);
}
