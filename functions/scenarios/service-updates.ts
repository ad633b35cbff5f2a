/**
 * Service updates: every machine of a service gets a clone of the new master with the variables its
 * old clone had, in waves; the old clone stays unassigned beside it as the machine's standby. A variable
 * the new master's template does not use is left out, and the machine's row names it (`dropped`).
 *
 * - `POST /v1/service-updates {machines | deployment, newMaster, waves: {size, pauseOnFailure}}`
 *   rolls out. A machine whose new clone fails is switched back to its old clone at once; with
 *   `pauseOnFailure` (the default) the machines not yet started are skipped.
 * - `POST /v1/service-updates/{id}/rollback` switches every updated machine back to its standby:
 *   it clones nothing and customizes nothing, and a second rollback changes nothing.
 * - `POST /v1/service-updates/{id}/finalize` destroys the standby clones; after a rollback, the new
 *   clones the rollback let go.
 *
 * - With `stagingMachine` instead of `newMaster`, the update is prepared first: a clone of the
 *   service's master is deployed on the staging machine, put in maintenance and changed by `hook`
 *   (a hook of the site's agent) or by an operator; the update then waits (`prepared`).
 *   `POST /v1/service-updates/{id}/approve` captures it as the master's next version and rolls that
 *   out in the same execution. Each phase is a workflow execution of its own: a workflow cannot wait
 *   for a person.
 */
import type { z } from 'zod';
import { accept } from '../actions/accept';
import { hookOf } from '../actions/hook';
import { actorOf, type Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { templateOf, unknownVariables } from '../domain/customization';
import { unmetRequirements } from '../domain/requirements';
import type { createServiceUpdate } from '../domain/schemas';
import { BusyError, ConflictError, InvalidInputError, UnknownVariableError } from '../errors';
import { newId, randomString } from '../store/ids';
import type { Clone, Deployment, DeploymentMember, Goal, Machine, Master } from '../store/records';
import { revise } from '../store/resources';
import { deploymentView, getDeployment, startScenario, workflowInput } from './deployments';
import { DeploymentRunningError } from './errors';
import { checkMachineUsable } from './machine-state';
import { builtins, named, renderHealthCheck } from './selection';

type Body = z.infer<typeof createServiceUpdate>;

/** The machines of the service: those named, or those of a deployment's members that succeeded. */
async function machinesOf(deps: Deps, body: Body): Promise<Machine[]> {
  if (body.machines) return Promise.all(body.machines.map((m) => deps.machines.require(m)));
  const d = await getDeployment(deps, body.deployment!, 'deployment');
  const done = d.members.filter((m) => m.outcome === 'succeeded');
  if (!done.length) throw new ConflictError(`deployment ${d.id} has no member that succeeded to update`, {});
  return Promise.all(done.map((m) => deps.machines.require(m.machine!)));
}

/**
 * The staging member of an update that is prepared: a clone of the service's master on a machine
 * outside the service, booted, put in maintenance, and changed by the hook (an image hook runs while
 * the machine is off, then the machine boots it again). Approving captures it; a rollback destroys it.
 */
async function stagingOf(deps: Deps, body: Body, master: Master, service: Machine[]) {
  const ref = body.stagingMachine!;
  const inService = service.find((m) => m.id === ref || m.name === ref);
  if (inService)
    throw new InvalidInputError(
      `staging machine ${inService.name} is one of the machines to update; pick a machine outside the service`,
    );
  const repo = await deps.repositories.requireReady(master.repository, 'a staging clone');
  // Free, on the service's site, usable and meeting the master's requirements, like a deployment's machine.
  const [machine] = (await named(deps, [ref], master, repo)) as [Machine];
  const site = repo.site;
  const hook = body.hook ? hookOf(await deps.sites.require(site), body.hook) : undefined;
  const variables = body.variables ?? {};
  const { unknown, expected } = unknownVariables(master.customization, variables);
  if (unknown.length) throw new UnknownVariableError('body.variables', unknown, expected, templateOf(master));
  const goals: Goal[] = [
    { machine: machine.id, binding: 'active', variables },
    { binding: 'active', metastate: 'maintenance' },
  ];
  if (hook?.on === 'image')
    goals.push({ binding: 'assigned', hook: hook.name }, { machine: machine.id, binding: 'active' });
  if (hook?.on === 'machine') goals.push({ binding: 'active', hook: hook.name });
  const member: DeploymentMember = {
    index: 0,
    machine: machine.id,
    machineName: machine.name,
    clone: `${master.name}-staging-${randomString(4)}`,
    variables,
    step: 'pending',
    attempts: 0,
    goals,
    compensation: [{ binding: 'destroyed' }],
    phases: { approve: [{ binding: 'unassigned' }, { binding: 'captured' }], rollback: [{ binding: 'destroyed' }] },
  };
  return { machine, member };
}

/**
 * The old clone's variables that the new master's template uses; the others (a variable of the old
 * master only) are left out, since the new clone's assign would refuse them, and the row says so.
 */
function carriedVariables(carried: Record<string, string>, master: Master) {
  const { unknown, expected } = unknownVariables(master.customization, carried);
  const variables = Object.fromEntries(Object.entries(carried).filter(([k]) => expected.includes(k)));
  if (!unknown.length) return { variables, dropped: {} };
  const message = `variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} of the old clone dropped: ${templateOf(master)} does not use ${unknown.length > 1 ? 'them' : 'it'}`;
  return { variables, dropped: { dropped: unknown, message } };
}

export async function createServiceUpdateAction(deps: Deps, p: Principal | undefined, body: Body) {
  const machines = await machinesOf(deps, body);
  const olds: Clone[] = [];
  for (const [i, machine] of machines.entries()) {
    if (machines.findIndex((m) => m.id === machine.id) !== i)
      throw new InvalidInputError(`machine ${machine.name} is named twice; name each machine once`);
    if (!machine.clone) throw new ConflictError(`machine ${machine.name} carries no clone to update`, {});
    checkMachineUsable(machine);
    const old = await deps.clones.require(machine.clone);
    if (old.lock) throw new BusyError('clone', old.id, old.lock);
    olds.push(old);
  }
  let master: Master;
  let staging: Awaited<ReturnType<typeof stagingOf>> | undefined;
  if (body.newMaster) {
    master = await deps.masters.require(body.newMaster);
    if (master.status !== 'ready') throw new ConflictError(`master ${master.name} is still being imported`);
    const same = machines.find((_, i) => olds[i]!.master === master.id);
    if (same) throw new ConflictError(`machine ${same.name} runs master ${master.name} already`, {});
  } else {
    // The update is prepared from what the service runs: one master version for all its machines.
    const other = olds.find((o) => o.master !== olds[0]!.master);
    if (other)
      throw new ConflictError(
        `the machines run different master versions (clone ${olds[0]!.name} and clone ${other.name}); prepare an update per master version`,
        {},
      );
    master = await deps.masters.require(olds[0]!.master);
    staging = await stagingOf(deps, body, master, machines);
  }
  const id = newId('deployment');
  const members: DeploymentMember[] = [];
  let repository: string | undefined;
  for (const [i, machine] of machines.entries()) {
    const old = olds[i]!;
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
    const { variables: carried } = await deps.customizations.of(old);
    const { variables, dropped } = carriedVariables(carried, master);
    const binding = old.binding;
    const healthCheck = renderHealthCheck(body.healthCheck, { ...builtins(i + 1, machine, master, id), ...carried });
    members.push({
      index: i + 1,
      machine: machine.id,
      machineName: machine.name,
      clone: `${master.name}-${machine.name}-${randomString(4)}`,
      variables,
      ...dropped,
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
      ...(healthCheck ? { healthCheck } : {}),
    });
  }
  const repo = await deps.repositories.requireReady(repository ?? master.repository, 'the updated clones');
  const now = deps.now();
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
      ...(staging ? { staging: staging.member } : {}),
    },
    machines: staging ? [...machines, staging.machine] : machines,
    ...(staging ? { mode: 'prepare' as const, kind: 'service_update_prepare' } : {}),
  });
}

const PHASE_KINDS = {
  approve: 'service_update',
  rollback: 'service_update_rollback',
  delete: 'service_update_finalize',
} as const;

/**
 * Starts a later phase of an update that is not running: `approve` (a prepared update: capture its
 * staging clone, then roll out), `rollback`, or `delete` (finalize).
 */
async function phase(deps: Deps, p: Principal | undefined, ref: string, mode: keyof typeof PHASE_KINDS) {
  const d = await getDeployment(deps, ref, 'service_update');
  if (d.status === 'running' || d.status === 'deleting') throw new DeploymentRunningError(d.id, d.operation);
  if (d.status === 'finalized')
    throw new ConflictError(
      `service update ${d.id} is finalized: the clones it did not keep are destroyed, so there is nothing to switch to`,
      {},
    );
  if (mode === 'approve' && d.status !== 'prepared')
    throw new ConflictError(`service update ${d.id} is ${d.status}: only a prepared update can be approved`, {});
  if (mode === 'delete' && d.status === 'prepared')
    throw new ConflictError(
      `service update ${d.id} is prepared and not rolled out: approve it, or roll it back to drop the staging clone`,
      {},
    );
  const site = await deps.sites.require(d.site);
  const now = deps.now();
  const accepted = await accept(
    deps,
    p,
    {
      workflow: 'deployment',
      kind: PHASE_KINDS[mode],
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

export const approveServiceUpdate = (deps: Deps, p: Principal | undefined, ref: string) =>
  phase(deps, p, ref, 'approve');
export const rollbackServiceUpdate = (deps: Deps, p: Principal | undefined, ref: string) =>
  phase(deps, p, ref, 'rollback');
export const finalizeServiceUpdate = (deps: Deps, p: Principal | undefined, ref: string) =>
  phase(deps, p, ref, 'delete');

/** Each machine with its old clone, its new one, and where it is. */
export async function serviceUpdateView(deps: Deps, ref: string) {
  const d = await getDeployment(deps, ref, 'service_update');
  const staging = d.staging;
  return {
    ...deploymentView(d),
    staging: staging
      ? {
          machine: staging.machineName,
          clone: staging.cloneId ?? null,
          step: staging.step,
          outcome: staging.outcome ?? null,
          error: staging.error ?? null,
        }
      : null,
    machines: d.members.map((m) => ({
      machine: m.machineName,
      old: m.goals?.[0]?.clone,
      new: m.cloneId,
      outcome: m.outcome,
      step: m.step,
      health: m.health ?? null,
      error: m.error,
      ...(m.dropped ? { dropped: m.dropped, message: m.message } : {}),
    })),
  };
}
