/**
 * `POST /v1/clones/{id}/{event}`: checks the event against the lifecycle table and, through the
 * event's entry, the request against the world (machine free, requirements met, variables given and each one used);
 * then locks the clone, records the planned transition on the operation and starts the transition
 * workflow. Nothing changes unless all checks pass.
 */
import type { LifecycleEvent } from '../../statemachines/lifecycle';
import { accept, type Parent } from '../actions/accept';
import { repoRef } from '../actions/views';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { BusyError, MachineTakenError } from '../errors';
import { parseWith } from '../http/validate';
import { RelayInUseError } from '../scenarios/errors';
import { TransactionConflict, type Write } from '../store/db';
import type { Clone, Machine } from '../store/records';
import { revise } from '../store/resources';
import { eventEntries } from './index';
import { cloneState, plan } from './plan';

export async function cloneEvent(
  deps: Deps,
  p: Principal | undefined,
  ref: string,
  event: LifecycleEvent,
  raw: unknown,
  parent?: Parent,
) {
  const entry = eventEntries[event];
  const body = parseWith(entry.body, raw ?? {}, 'body');
  const clone = await deps.clones.require(ref);
  if (clone.lock) throw new BusyError('clone', clone.id, clone.lock);
  await refuseRelayInUse(deps, clone, parent);
  const transition = plan(cloneState(clone), event);
  const repo = await deps.repositories.require(clone.repository);
  const image = { repository: repoRef(repo), path: clone.path, format: clone.format ?? 'raw' };
  const planned = await entry.accept({ deps, clone, repo, image, transition, parent }, body);
  const now = deps.now();
  const reserve = planned.reserve;
  const machineWrite = (): Write[] =>
    reserve ? [deps.machines.saveWrite(revise<Machine>(reserve, { clone: clone.id }, now))] : [];
  try {
    return await accept(
      deps,
      p,
      {
        workflow: 'transition',
        kind: event,
        resource: { kind: 'clone', id: clone.id, name: clone.name },
        site: repo.site,
        request: planned.request as Record<string, unknown>,
        transition: { event, to: transition.to, task: transition.task, firstBoot: transition.firstBoot },
        firstStep: transition.task ?? event,
        input: { event, input: planned.input },
        parent,
      },
      (op) => [deps.clones.saveWrite(revise(clone, { lock: op.id }, now)), ...machineWrite()],
    );
  } catch (e) {
    await planned.discard?.().catch((d: Error) => console.error(`discarding a refused ${event}: ${d.message}`));
    if (e instanceof TransactionConflict) {
      if (e.failed.includes(1) && reserve) throw new MachineTakenError(reserve.name, '(another request)');
      throw new BusyError('clone', clone.id, '(another request)');
    }
    throw e;
  }
}

/** A relay is its deployment's while that runs: its clones are copied from it, and the deployment removes it. */
async function refuseRelayInUse(deps: Deps, clone: Clone, parent: Parent | undefined) {
  if (!clone.relayOf || parent?.deployment === clone.relayOf) return;
  const d = await deps.deployments.get(clone.relayOf);
  if (d?.status === 'running' || d?.status === 'deleting') throw new RelayInUseError(clone.name, d.id);
}
