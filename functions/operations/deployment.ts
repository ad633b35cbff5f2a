/**
 * The end of a deployment's phase. A deploy that succeeded marks the deployment succeeded; a delete
 * that succeeded removes its record. A failure marks it failed (or rolled back) and makes ready any
 * machine still reserved for a member that never ended (a workflow that broke off).
 */
import type { Deps } from '../deps';
import { releaseAll } from '../scenarios/deployments';
import { nameKey } from '../store/db';
import type { Deployment, Operation } from '../store/records';
import { revise } from '../store/resources';
import type { OperationKind } from './kind';

async function deploymentOf(deps: Deps, op: Operation): Promise<Deployment | undefined> {
  return deps.deployments.get(op.resource.id);
}

const summary = (d: Deployment) => ({
  deployment: d.id,
  members: d.members.map((m) => ({ index: m.index, machine: m.machineName, clone: m.clone, outcome: m.outcome })),
  // A relay left is named, so that it can be removed (DELETE /v1/clones/{name}) or the deployment deleted.
  ...(d.tree
    ? {
        relays: {
          made: d.tree.relays.filter((r) => r.cloneId).length,
          removed: d.tree.relays.filter((r) => r.removed).length,
          left: d.tree.relays.filter((r) => r.cloneId && !r.removed).map((r) => r.name),
        },
      }
    : {}),
});

async function failedWrites(deps: Deps, op: Operation, now: string) {
  const d = await deploymentOf(deps, op);
  if (!d || d.operation !== op.id) return [];
  const open = d.members.flatMap((m) => (!m.outcome && m.machine ? [m.machine] : []));
  const machines = (await Promise.all(open.map((id) => deps.machines.get(id)))).filter(
    (m) => m?.state === 'reserved' && m.reservation === d.id,
  );
  await releaseAll(deps, machines as NonNullable<(typeof machines)[number]>[]);
  const status = d.members.some((m) => m.outcome === 'rolled_back') ? 'rolled_back' : 'failed';
  return [deps.deployments.saveWrite(revise(d, { status }, now))];
}

/** A phase that ended well leaves the scenario `status`. */
function phaseKind(status: Deployment['status']): OperationKind {
  return {
    async commit(deps, op, _outcome, now) {
      const d = await deploymentOf(deps, op);
      if (!d) return { writes: [], result: { deployment: op.resource.id } };
      const writes = [deps.deployments.saveWrite(revise(d, { status }, now))];
      // A reassignment lists the clone it kept on the machine, to switch back to (none when it destroyed it).
      const machine = d.scenario === 'reassignment' ? await deps.machines.get(d.members[0]!.machine!) : undefined;
      if (machine) writes.push(deps.machines.saveWrite(revise(machine, { standby: d.standby?.clone }, now)));
      return { writes, result: summary(d) };
    },
    undo: (deps, op, _error, now) => failedWrites(deps, op, now),
  };
}

export const deploymentKind = phaseKind('succeeded');
export const preparedKind = phaseKind('prepared');
export const rolledBackKind = phaseKind('rolled_back');
export const finalizedKind = phaseKind('finalized');

export const deploymentDeleteKind: OperationKind = {
  async commit(deps, op) {
    const d = await deploymentOf(deps, op);
    if (!d) return { writes: [], result: { deployment: op.resource.id, deleted: true } };
    const token = d.clientToken
      ? [
          deps.db.delete(nameKey('deployment-token', d.clientToken), {
            expression: 'id = :id',
            values: { ':id': d.id },
          }),
        ]
      : [];
    return { writes: [...deps.deployments.deleteWrites(d), ...token], result: { ...summary(d), deleted: true } };
  },
  undo: (deps, op, _error, now) => failedWrites(deps, op, now),
};
