/**
 * Scenarios of one member, run by the deployment workflow and engine (members.ts) with explicit goals:
 *
 * - `POST /v1/migrations`: a clone moves from its machine to another, its image to another repository
 *   of the site (`storage: {repository}`), or both. It ends with the binding it had (active stays
 *   active), on the new machine if one is named. An operational clone is bound as it is; a clean one is
 *   customized for the new machine. The image moves while no machine reaches it (the engine brings
 *   the clone down to assigned and back up). If a step fails, the clone goes back where it was, with
 *   its old binding, and the failure says so.
 * - `POST /v1/reassignments`: a machine switches to another clone, an existing one or one made now
 *   from a master. The old clone becomes the machine's standby (unassigned, kept) or is destroyed.
 *   If the new clone cannot be brought up, the old one is put back.
 */
import type { z } from 'zod';
import { actorOf, type Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { templateOf, unknownVariables } from '../domain/customization';
import { unmetRequirements } from '../domain/requirements';
import type { createMigration, createReassignment } from '../domain/schemas';
import { checkReach } from '../domain/topology';
import { BusyError, ConflictError, InvalidInputError, UnknownVariableError } from '../errors';
import { refuseUnknownVariables } from '../events/customization';
import { relocationTarget } from '../events/relocate';
import { nameKey } from '../store/db';
import { newId, randomString } from '../store/ids';
import type { Clone, DeploymentMember, Goal, Machine, Repository, Scenario } from '../store/records';
import { deploymentView, getDeployment, type ScenarioRecord, startScenario } from './deployments';
import { checkMachineUsable } from './machine-state';

const NO_POLICY = { maxFailures: 0, onFailure: 'stop' } as const;

async function boundClone(deps: Deps, ref: string): Promise<Clone> {
  const clone = await deps.clones.require(ref);
  if (clone.status !== 'ready') throw new ConflictError(`clone ${clone.name} is ${clone.status}`, { clone: clone.id });
  if (clone.lock) throw new BusyError('clone', clone.id, clone.lock);
  return clone;
}

/** Refuses a machine that could not reach the clone's storage in `repo`: iSCSI lets in one initiator name. */
/** A machine the clone may move to: same site, requirements met, free, and able to reach the storage in `repo`. */
async function targetFor(deps: Deps, clone: Clone, ref: string, repo: Repository): Promise<Machine> {
  const machine = await deps.machines.require(ref);
  const master = await deps.masters.require(clone.master);
  if (machine.site !== repo.site)
    throw new InvalidInputError(
      `machine ${machine.name} is on site ${machine.site}, the clone's storage on site ${repo.site}: it cannot reach it`,
    );
  const unmet = unmetRequirements(master.requirements, machine);
  if (unmet.length)
    throw new ConflictError(`machine ${machine.name} does not meet the master's requirements: ${unmet.join('; ')}`, {
      machine: machine.name,
      unmet,
    });
  await checkReach(deps, machine, repo);
  checkMachineUsable(machine);
  return machine;
}

function record(
  p: Principal | undefined,
  clone: Clone,
  site: string,
  scenario: Scenario,
  member: DeploymentMember,
  now: string,
): ScenarioRecord {
  const id = newId('deployment');
  return {
    id,
    name: id,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    scenario,
    site,
    master: clone.master,
    masterName: clone.master,
    repository: clone.repository,
    method: clone.method ?? 'auto',
    activate: true,
    failurePolicy: NO_POLICY,
    items: [],
    requestHash: '',
    status: 'running',
    failures: 0,
    members: [member],
    actor: actorOf(p),
  };
}

export async function createMigrationAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof createMigration>,
) {
  const storage = body.storage === 'keep' ? undefined : body.storage.repository;
  if (!body.toMachine && !storage)
    throw new InvalidInputError(
      'a migration moves the clone to another machine ("toMachine"), its image to another repository ("storage": {"repository": …}), or both; name at least one',
    );
  if (!body.toMachine && body.variables)
    throw new InvalidInputError('"variables" customize a clean clone for a new machine; send them with "toMachine"');
  const clone = await boundClone(deps, body.clone);
  const from = await deps.repositories.require(clone.repository);
  const moved = storage ? (await relocationTarget(deps, clone, from, storage)).target : undefined;
  const repo = moved ?? from;
  const source =
    clone.machine && clone.binding !== 'unassigned' ? await deps.machines.require(clone.machine) : undefined;
  let target = source;
  if (body.toMachine) {
    if (!source)
      throw new ConflictError(`clone ${clone.name} is bound to no machine; assign it instead of migrating it`, {
        clone: clone.id,
      });
    target = await targetFor(deps, clone, body.toMachine, repo);
    if (target.id === source.id)
      throw new InvalidInputError(`clone ${clone.name} is on machine ${target.name} already`);
    if (target.clone)
      throw new ConflictError(`machine ${target.name} carries clone ${target.clone}; pick a free one`, {});
  } else if (target && clone.binding !== 'assigned') await checkReach(deps, target, repo);
  // The clone's assign on the new machine would refuse them; refused now, before anything moves.
  if (body.variables)
    await refuseUnknownVariables(
      deps,
      clone,
      (await deps.customizations.of(clone)).items,
      body.variables,
      'body.variables',
    );
  const on = (m: Machine | undefined) => (m ? { machine: m.id } : {});
  const member: DeploymentMember = {
    index: 1,
    ...(target ? { machine: target.id, machineName: target.name } : {}),
    clone: clone.name,
    cloneId: clone.id,
    variables: body.variables ?? {},
    step: 'pending',
    attempts: 0,
    goals: [
      { clone: clone.id, ...on(target), binding: clone.binding, variables: body.variables, repository: moved?.id },
    ],
    // Back as it was: on its source machine, its image in its old repository.
    compensation: [{ clone: clone.id, ...on(source), binding: clone.binding, repository: moved && from.id }],
  };
  const rec = record(p, clone, repo.site, 'migration', member, deps.now());
  rec.masterName = (await deps.masters.require(clone.master)).name;
  return startScenario(deps, p, { record: rec, machines: body.toMachine && target ? [target] : [] });
}

export async function createReassignmentAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof createReassignment>,
) {
  const machine = await deps.machines.require(body.machine);
  if (!machine.clone) throw new ConflictError(`machine ${machine.name} carries no clone; assign one instead`, {});
  const old = await boundClone(deps, machine.clone);
  checkMachineUsable(machine);
  let fresh: { name: string } | undefined;
  let next: Clone | undefined;
  let masterId = old.master;
  if ('clone' in body.to) {
    next = await deps.clones.require(body.to.clone);
    if (next.id === old.id) throw new InvalidInputError(`machine ${machine.name} already carries clone ${next.name}`);
    if (next.status !== 'ready' || next.binding !== 'unassigned' || next.lock)
      throw new ConflictError(`clone ${next.name} is not free (it must be ready, unassigned and idle)`, {
        clone: next.id,
      });
    masterId = next.master;
  } else {
    const master = await deps.masters.require(body.to.master);
    if (master.status !== 'ready') throw new ConflictError(`master ${master.name} is still being imported`);
    const name = body.to.name ?? `${master.name}-${machine.name}-${randomString(4)}`;
    if (await deps.db.get(nameKey('clone', name))) throw new ConflictError(`a clone named "${name}" already exists`);
    fresh = { name };
    masterId = master.id;
  }
  const master = await deps.masters.require(masterId);
  const unmet = unmetRequirements(master.requirements, machine);
  if (unmet.length)
    throw new ConflictError(
      `machine ${machine.name} does not meet the requirements of master ${master.name}: ${unmet.join('; ')}`,
      {
        machine: machine.name,
        unmet,
      },
    );
  const repository = await deps.repositories.requireReady(next?.repository ?? old.repository, 'a new clone');
  if (repository.site !== machine.site)
    throw new InvalidInputError(
      `the new clone's storage is on site ${repository.site}, machine ${machine.name} on ${machine.site}`,
    );
  const binding = old.binding === 'assigned' ? 'assigned' : old.binding;
  const variables = 'master' in body.to ? (body.to.variables ?? {}) : {};
  const { unknown, expected } = unknownVariables(master.customization, variables);
  if (unknown.length) throw new UnknownVariableError('body.to.variables', unknown, expected, templateOf(master));
  const newGoal: Goal = { ...(next ? { clone: next.id } : {}), machine: machine.id, binding, variables };
  const goals: Goal[] = [{ clone: old.id, binding: 'unassigned' }, newGoal];
  if (body.old === 'destroy') goals.push({ clone: old.id, binding: 'destroyed' });
  const member: DeploymentMember = {
    index: 1,
    machine: machine.id,
    machineName: machine.name,
    clone: fresh?.name ?? next!.name,
    ...(next ? { cloneId: next.id } : {}),
    variables,
    step: 'pending',
    attempts: 0,
    goals,
    // Back as it was: the new clone let go (a fresh one destroyed), the old one bound again.
    compensation: [
      { ...(next ? { clone: next.id } : {}), binding: next ? 'unassigned' : 'destroyed' },
      { clone: old.id, machine: machine.id, binding: old.binding },
    ],
  };
  const rec = record(p, { ...(next ?? old), master: master.id }, machine.site, 'reassignment', member, deps.now());
  rec.masterName = master.name;
  rec.method = 'auto';
  if (body.old === 'standby') rec.standby = { machine: machine.id, clone: old.id };
  return startScenario(deps, p, { record: rec, machines: [machine] });
}

export async function getScenario(deps: Deps, ref: string, scenario: Scenario) {
  return deploymentView(await getDeployment(deps, ref, scenario));
}
