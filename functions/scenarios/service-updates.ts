/**
 * Service updates: every machine of a service gets a clone of the new master with the variables its
 * old clone had, in waves; the old clone stays unassigned beside it as the machine's standby.
 *
 * - `POST /v1/service-updates {machines | deployment, newMaster, waves: {size, pauseOnFailure}}`
 *   rolls out. A machine whose new clone fails is switched back to its old clone at once; with
 *   `pauseOnFailure` (the default) the machines not yet started are skipped.
 * - `POST /v1/service-updates/{id}/rollback` switches every updated machine back to its standby:
 *   it clones nothing and customizes nothing, and a second rollback changes nothing.
 * - `POST /v1/service-updates/{id}/finalize` destroys the standby clones.
 *
 * Preparing the new master on a staging machine (with hooks, and an approval) is not done here yet:
 * the request names the new master, as a newer version or another master.
 */
import type { z } from 'zod';
import type { DeploymentMode } from '../../statemachines/steps';
import { accept } from '../actions/accept';
import { actorOf, type Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { unmetRequirements } from '../domain/requirements';
import type { createServiceUpdate } from '../domain/schemas';
import { BusyError, ConflictError, InvalidInputError } from '../errors';
import { newId, randomString } from '../store/ids';
import type { Deployment, DeploymentMember, Machine } from '../store/records';
import { revise } from '../store/resources';
import { deploymentView, getDeployment, startScenario, workflowInput } from './deployments';
import { DeploymentRunningError } from './errors';
import { checkMachineUsable } from './machine-state';

type Body = z.infer<typeof createServiceUpdate>;

/** The machines of the service: those named, or those of a deployment's members that succeeded. */
async function machinesOf(deps: Deps, body: Body): Promise<Machine[]> {
  if (body.machines) return Promise.all(body.machines.map((m) => deps.machines.require(m)));
  const d = await getDeployment(deps, body.deployment!, 'deployment');
  const done = d.members.filter((m) => m.outcome === 'succeeded');
  if (!done.length) throw new ConflictError(`deployment ${d.id} has no member that succeeded to update`, {});
  return Promise.all(done.map((m) => deps.machines.require(m.machine!)));
}

export async function createServiceUpdateAction(deps: Deps, p: Principal | undefined, body: Body) {
  if (body.stagingMachine)
    throw new InvalidInputError(
      'preparing the update on a staging machine is not supported yet: prepare the new master version (capture), then name it as "newMaster"',
    );
  const master = await deps.masters.require(body.newMaster);
  if (master.status !== 'ready') throw new ConflictError(`master ${master.name} is still being imported`);
  const machines = await machinesOf(deps, body);
  const members: DeploymentMember[] = [];
  let repository: string | undefined;
  for (const [i, machine] of machines.entries()) {
    if (machines.findIndex((m) => m.id === machine.id) !== i)
      throw new InvalidInputError(`machine ${machine.name} is named twice; name each machine once`);
    if (!machine.clone) throw new ConflictError(`machine ${machine.name} carries no clone to update`, {});
    checkMachineUsable(machine);
    const old = await deps.clones.require(machine.clone);
    if (old.lock) throw new BusyError('clone', old.id, old.lock);
    if (old.master === master.id)
      throw new ConflictError(`machine ${machine.name} runs master ${master.name} already`, {});
    const unmet = unmetRequirements(master.requirements, machine);
    if (unmet.length)
      throw new ConflictError(
        `machine ${machine.name} does not meet the requirements of ${master.name}: ${unmet.join('; ')}`,
        {
          machine: machine.name,
          unmet,
        },
      );
    repository ??= old.repository;
    const { variables } = await deps.customizations.of(old);
    const binding = old.binding;
    members.push({
      index: i + 1,
      machine: machine.id,
      machineName: machine.name,
      clone: `${master.name}-${machine.name}-${randomString(4)}`,
      variables,
      step: 'pending',
      attempts: 0,
      // The old clone lets go of the machine; the new one takes it with the old one's variables.
      goals: [
        { clone: old.id, binding: 'unassigned' },
        { machine: machine.id, binding, variables },
      ],
      // A new clone that cannot be brought up is destroyed and the old one put back at once.
      compensation: [{ binding: 'destroyed' }, { clone: old.id, machine: machine.id, binding }],
      phases: {
        rollback: [{ binding: 'unassigned' }, { clone: old.id, machine: machine.id, binding }],
        delete: [{ clone: old.id, binding: 'destroyed' }],
      },
    });
  }
  const repo = await deps.repositories.require(repository ?? master.repository);
  const now = deps.now();
  const id = newId('deployment');
  return startScenario(deps, p, {
    record: {
      id,
      name: id,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      scenario: 'service_update',
      site: repo.site,
      master: master.id,
      masterName: master.name,
      repository: repo.id,
      method: 'auto',
      activate: true,
      failurePolicy: body.waves.pauseOnFailure
        ? { maxFailures: 0, onFailure: 'stop' }
        : { maxFailures: 0, onFailure: 'continue' },
      items: [],
      requestHash: '',
      status: 'running',
      failures: 0,
      members,
      actor: actorOf(p),
      concurrency: body.waves.size,
    },
    machines,
  });
}

/** Starts a later phase of an update that is not running: `rollback` or `delete` (finalize). */
async function phase(deps: Deps, p: Principal | undefined, ref: string, mode: Exclude<DeploymentMode, 'deploy'>) {
  const d = await getDeployment(deps, ref, 'service_update');
  if (d.status === 'running' || d.status === 'deleting') throw new DeploymentRunningError(d.id, d.operation);
  if (d.status === 'finalized')
    throw new ConflictError(`service update ${d.id} is finalized: its standby clones are gone`, {});
  const site = await deps.sites.require(d.site);
  const now = deps.now();
  const accepted = await accept(
    deps,
    p,
    {
      workflow: 'deployment',
      kind: mode === 'rollback' ? 'service_update_rollback' : 'service_update_finalize',
      resource: { kind: 'deployment', id: d.id, name: d.id },
      site: d.site,
      request: {},
      firstStep: 'members',
      input: workflowInput(d, mode, site),
    },
    (op) => [deps.deployments.saveWrite(revise<Deployment>(d, { status: 'running', operation: op.id }, now))],
  );
  return { id: d.id, ...accepted };
}

export const rollbackServiceUpdate = (deps: Deps, p: Principal | undefined, ref: string) =>
  phase(deps, p, ref, 'rollback');
export const finalizeServiceUpdate = (deps: Deps, p: Principal | undefined, ref: string) =>
  phase(deps, p, ref, 'delete');

/** Each machine with its old clone, its new one, and where it is. */
export async function serviceUpdateView(deps: Deps, ref: string) {
  const d = await getDeployment(deps, ref, 'service_update');
  return {
    ...deploymentView(d),
    machines: d.members.map((m) => ({
      machine: m.machineName,
      old: m.goals?.[0]?.clone,
      new: m.cloneId,
      outcome: m.outcome,
      step: m.step,
      error: m.error,
    })),
  };
}
