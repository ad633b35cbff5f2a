/**
 * The relays of a deployment's tree (tree.ts) at run time: made as the members need them, removed
 * when the phase ends.
 *
 * Lifecycle of a relay: planned → making (its clone operation runs) → made (its clone is ready) →
 * removing (a destroy runs) → removed. Making and removing are ordinary operations with the
 * deployment's as their parent, so a relay's image is written, checked and removed exactly as any
 * clone's, and a relay that fails to be made leaves no record (the clone's own undo).
 *
 * Rules:
 * - A relay is started once its parent is made (the master is always made), by whichever member
 *   step finds it startable first; its name is unique, so a second start is refused and changes
 *   nothing. A member's clone starts only once its own relay is made.
 * - A member step learns the outcome of the operations on its own chain only, and starts every
 *   relay whose parent is known to be made, so the generations overlap without each step reading
 *   every relay's operation.
 * - Relays are not a cache: each phase's end (`finish`) removes every relay made, waiting for those
 *   still being made, and a deployment's delete removes any a broken-off phase left.
 */
import { MEMBER_WAIT_SECONDS } from '../../statemachines/constants';
import type { Parent } from '../actions/accept';
import { createCloneAction } from '../actions/clones';
import type { Deps } from '../deps';
import { ApiError, BusyError, NameTakenError, StaleRecordError } from '../errors';
import { cloneEvent } from '../events/request';
import { TransactionConflict } from '../store/db';
import type { Clone, CloneTree, Deployment, DeploymentMember, Relay } from '../store/records';
import { revise } from '../store/resources';

/** Failures that say nothing about the relay: it is made again, up to this many times in all. */
const RETRYABLE = new Set(['interrupted', 'agent_lost', 'workflow_unavailable']);
const MAX_ATTEMPTS = 3;
const POLL_MS = 250;

/** A change to one relay, applied to the deployment as it is when saved (several members move at once). */
export type RelayPatch = Pick<Relay, 'name'> & Partial<Omit<Relay, 'name'>>;

export function withRelays(tree: CloneTree, patches: RelayPatch[]): CloneTree {
  if (!patches.length) return tree;
  return {
    ...tree,
    relays: tree.relays.map((r) => Object.assign({}, r, ...patches.filter((p) => p.name === r.name)) as Relay),
  };
}

export const parentOf = (d: Deployment): Parent => ({ operation: d.operation, actor: d.actor, deployment: d.id });

/** How the operation that makes `r` ended, as a patch; undefined while it runs. */
async function settle(deps: Deps, r: Relay, retry: boolean): Promise<RelayPatch | undefined> {
  const op = await deps.operations.get(r.operation!);
  if (op?.status === 'running') return undefined;
  if (op?.status === 'succeeded') return { name: r.name, cloneId: op.resource.id };
  const error = op?.error ?? { code: 'lost', message: `operation ${r.operation} is gone` };
  if (retry && RETRYABLE.has(error.code) && r.attempts < MAX_ATTEMPTS) return { name: r.name, operation: undefined };
  return { name: r.name, error: { code: error.code, message: error.message } };
}

export type Source =
  | { kind: 'ready'; clone?: Clone }
  | { kind: 'wait'; patches: RelayPatch[] }
  | { kind: 'failed'; error: { code: string; message: string } };

/**
 * What a member's clone step finds of its source: the master or its relay made (the clone to copy),
 * not yet (with the relays started meanwhile), or failed.
 */
export async function sourceOf(deps: Deps, d: Deployment, m: DeploymentMember): Promise<Source> {
  if (!m.source) return { kind: 'ready' };
  const patches: RelayPatch[] = [];
  const relays = new Map(d.tree!.relays.map((r) => [r.name, r]));
  const learn = (p: RelayPatch | undefined) => {
    if (!p) return;
    patches.push(p);
    relays.set(p.name, { ...relays.get(p.name)!, ...p });
  };
  const chain: string[] = [];
  for (let r = relays.get(m.source); r; r = r.parent ? relays.get(r.parent) : undefined) chain.push(r.name);
  for (const name of chain) {
    const r = relays.get(name)!;
    if (r.operation && !r.cloneId && !r.error) learn(await settle(deps, r, true));
  }
  const own = relays.get(m.source)!;
  if (own.cloneId) {
    const clone = await deps.clones.get(own.cloneId);
    if (clone?.status === 'ready') return { kind: 'ready', clone };
    return { kind: 'failed', error: { code: 'relay_gone', message: `relay ${own.name} is gone` } };
  }
  const broken = chain.map((n) => relays.get(n)!).find((r) => r.error);
  if (broken)
    return {
      kind: 'failed',
      error: { code: 'relay_failed', message: `relay ${broken.name} could not be made: ${broken.error!.message}` },
    };
  for (const p of await startReady(deps, d, [...relays.values()])) learn(p);
  return { kind: 'wait', patches };
}

/** Starts every relay not yet started whose parent is made. */
async function startReady(deps: Deps, d: Deployment, relays: Relay[]): Promise<RelayPatch[]> {
  const byName = new Map(relays.map((r) => [r.name, r]));
  const ready = relays.filter(
    (r) => !r.operation && !r.cloneId && !r.error && (!r.parent || byName.get(r.parent)?.cloneId),
  );
  const sources = new Map<string, Clone | undefined>();
  const patches: RelayPatch[] = [];
  for (const r of ready) {
    const parentId = r.parent ? byName.get(r.parent)!.cloneId! : undefined;
    if (parentId && !sources.has(parentId)) sources.set(parentId, await deps.clones.get(parentId));
    try {
      const accepted = await createCloneAction(
        deps,
        undefined,
        { master: d.master, name: r.name, repository: r.repository, method: r.method as 'sparse' },
        parentOf(d),
        { source: parentId ? sources.get(parentId) : undefined, relayOf: d.id },
      );
      patches.push({ name: r.name, operation: accepted.operation, attempts: r.attempts + 1 });
    } catch (e) {
      // Another member's step started it first.
      if (e instanceof NameTakenError) continue;
      if (!(e instanceof ApiError)) throw e;
      patches.push({ name: r.name, error: { code: e.code, message: e.message } });
    }
  }
  return patches;
}

/** The next thing to do for one relay at a phase's end, as a patch; `pending` while an operation runs. */
async function removeOne(deps: Deps, d: Deployment, r: Relay): Promise<{ patch?: RelayPatch; pending: boolean }> {
  if (r.removed || (!r.operation && !r.cloneId)) return { pending: false };
  if (!r.cloneId) {
    if (r.error) return { pending: false };
    const patch = await settle(deps, r, false);
    return { patch, pending: true };
  }
  const clone = await deps.clones.get(r.cloneId);
  if (!clone || clone.status === 'destroyed') return { patch: { name: r.name, removed: true }, pending: false };
  if (r.removal) {
    const op = await deps.operations.get(r.removal);
    if (op?.status === 'running') return { pending: true };
    // A removal that failed in this phase is reported; a later phase (the delete) tries again.
    if (op?.status === 'failed' && op.parent === d.operation) {
      const error = { code: op.error?.code ?? 'failed', message: `could not be removed: ${op.error?.message}` };
      return { patch: r.error ? undefined : { name: r.name, error }, pending: false };
    }
  }
  if (clone.lock) return { pending: true };
  try {
    const accepted = await cloneEvent(deps, undefined, clone.id, 'destroy', {}, parentOf(d));
    return { patch: { name: r.name, removal: accepted.operation, error: undefined }, pending: true };
  } catch (e) {
    if (e instanceof BusyError) return { pending: true };
    if (!(e instanceof ApiError)) throw e;
    return {
      patch: { name: r.name, error: { code: e.code, message: `could not be removed: ${e.message}` } },
      pending: false,
    };
  }
}

/**
 * Removes every relay of the deployment, waiting up to about MEMBER_WAIT_SECONDS: `done` when none is
 * left but those whose removal failed in this phase (named in `left`), else `pending` (ask again).
 */
export async function removeRelays(deps: Deps, id: string): Promise<{ done: boolean; left: Relay[] }> {
  const end = Date.now() + (MEMBER_WAIT_SECONDS - 3) * 1000;
  for (;;) {
    const d = await deps.deployments.get(id);
    if (!d?.tree) return { done: true, left: [] };
    const steps = await Promise.all(d.tree.relays.map((r) => removeOne(deps, d, r)));
    const patches = steps.flatMap((s) => (s.patch ? [s.patch] : []));
    if (patches.length) await saveRelays(deps, d, patches);
    const pending = steps.some((s) => s.pending);
    if (!pending) {
      const tree = withRelays(d.tree, patches);
      return { done: true, left: tree.relays.filter((r) => r.cloneId && !r.removed) };
    }
    if (Date.now() > end) return { done: false, left: [] };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function saveRelays(deps: Deps, first: Deployment, patches: RelayPatch[]) {
  let d = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transact([
        deps.deployments.saveWrite(revise(d, { tree: withRelays(d.tree!, patches) }, deps.now())),
      ]);
    } catch (e) {
      if ((!(e instanceof TransactionConflict) && !(e instanceof StaleRecordError)) || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 10 * attempt));
      d = (await deps.deployments.get(d.id))!;
    }
  }
}
