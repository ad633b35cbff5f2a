/**
 * The members of a deployment, moved on one operation at a time by the deployment workflow's
 * `member` step. Each step is an ordinary operation (a clone, or a lifecycle event of the member's
 * clone) accepted by the same code as the API's, with the deployment's operation as its parent, so
 * every lock, check, undo and agent task is the one a single request would get.
 *
 * deploy:   pending → clone → assign (customized with the member's variables) → attach → activate
 *           → health (when the scenario has a health check) → done
 * teardown: from the clone's state: deactivate → detach → unassign → destroy → done
 * staging:  a service update's member 0: clone → … → activate → reconfigure → hook → (approve) → capture
 * storage:  a goal in another repository: down to assigned (or unassigned) → relocate → back up
 *
 * A member that fails is torn down and its machine quarantined; a rollback or a delete tears down the
 * members that succeeded and makes their machines ready. `finish` ends the phase.
 */

import { MEMBER_WAIT_SECONDS } from '../../statemachines/constants';
import type { Binding, LifecycleEvent } from '../../statemachines/lifecycle';
import type { DeploymentMode } from '../../statemachines/steps';
import type { Parent } from '../actions/accept';
import { createCloneAction } from '../actions/clones';
import { runHookAction } from '../actions/hook';
import { checkHealthAction } from '../actions/machine-health';
import type { Deps } from '../deps';
import { ApiError, BusyError, StaleRecordError } from '../errors';
import { cloneEvent } from '../events/request';
import { commit, recordFailure } from '../operations/end';
import { TransactionConflict, type Write } from '../store/db';
import type { Clone, Deployment, DeploymentMember, Goal, Machine, MemberStep, Operation } from '../store/records';
import { revise } from '../store/resources';
import { getDeployment, scenarioLink } from './deployments';
import { readied } from './machine-state';
import { type RelayPatch, removeRelays, sourceOf, withRelays } from './relays';

/** Failures that say nothing about the member: the step is tried again, up to this many times in all. */
const RETRYABLE = new Set(['interrupted', 'agent_lost', 'workflow_unavailable']);
const MAX_ATTEMPTS = 3;
const POLL_MS = 150;

const ORDER: Binding[] = ['unassigned', 'assigned', 'attached', 'active'];
const DOWN = { active: 'deactivate', attached: 'detach', assigned: 'unassign' } as const;
const UP = { assigned: 'attach', attached: 'activate' } as const;

/** The goals of the member in hand: its own list, its compensation, or a deployment's (built, or torn down). */
function goalsOf(d: Deployment, m: DeploymentMember): Goal[] {
  if (m.teardown === 'failed' && m.compensation) return m.compensation;
  if (m.teardown && m.teardown !== 'failed' && m.phases?.[m.teardown]) return m.phases[m.teardown]!;
  if (m.teardown) return [{ binding: 'destroyed' }];
  if (m.goals) return m.goals;
  return [{ machine: m.machine, binding: d.activate ? 'active' : 'attached', variables: m.variables }];
}

/** The next step that takes `clone` toward `goal`, or `done` when it is there. */
function converge(clone: Clone | undefined, goal: Goal): MemberStep {
  if (goal.binding === 'destroyed') {
    if (clone?.status !== 'ready') return 'done';
    return clone.binding === 'unassigned' ? 'destroy' : DOWN[clone.binding];
  }
  if (goal.binding === 'captured' && clone?.status === 'captured') return 'done';
  if (clone?.status !== 'ready') return 'clone';
  if (goal.binding === 'captured') {
    if (clone.binding !== 'unassigned') return DOWN[clone.binding];
    return clone.metastate === 'maintenance' ? 'capture' : 'reconfigure';
  }
  if (clone.binding !== 'unassigned' && goal.machine && clone.machine !== goal.machine) return DOWN[clone.binding];
  // The image moves while no machine reaches it.
  if (goal.repository && clone.repository !== goal.repository)
    return clone.binding === 'attached' || clone.binding === 'active' ? DOWN[clone.binding] : 'relocate';
  if (clone.binding === 'unassigned' && goal.machine && goal.binding !== 'unassigned') return 'assign';
  const have = ORDER.indexOf(clone.binding);
  const want = ORDER.indexOf(goal.binding);
  if (have < want) return UP[clone.binding as keyof typeof UP];
  if (have > want) return DOWN[clone.binding as keyof typeof DOWN];
  if (goal.metastate && clone.metastate !== goal.metastate) return 'reconfigure';
  return 'done';
}

/** The member by its index: a service update's staging member is 0. */
const STAGING = 0;
export function memberOf(d: Deployment, index: number): DeploymentMember | undefined {
  return index === STAGING ? d.staging : d.members.find((x) => x.index === index);
}

interface Move {
  /** The member as it is to be saved. */
  member: DeploymentMember;
  /** One more failed member. */
  failed?: boolean;
  /** What the member's end does to its machine. */
  machine?: 'ready' | 'quarantine';
  /** What the step learnt of, or did to, the deployment's relays. */
  relays?: RelayPatch[];
}

type Next = { kind: 'done' } | { kind: 'wait' } | { kind: 'move'; move: Move };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function advanceMember(deps: Deps, id: string, index: number, mode: DeploymentMode) {
  const end = Date.now() + (MEMBER_WAIT_SECONDS - 3) * 1000;
  for (;;) {
    const d = await getDeployment(deps, id);
    const m = memberOf(d, index);
    if (!m) throw new Error(`deployment ${id} has no member ${index}`);
    const next = await nextOf(deps, d, m, mode);
    if (next.kind === 'done') return { done: true, outcome: m.outcome };
    if (next.kind === 'wait') {
      if (Date.now() > end) return { done: false };
      await sleep(POLL_MS);
      continue;
    }
    await save(deps, d, next.move);
  }
}

/**
 * Saves a member's move with the deployment's counters and its machine, in one transaction. Members
 * move at once, so the deployment may have changed since it was read: the move (which only this
 * member's step makes) is applied again to the deployment as it is now, never recomputed, so an
 * operation it started is recorded exactly once.
 */
async function save(deps: Deps, first: Deployment, move: Move): Promise<void> {
  let d = first;
  for (let attempt = 1; ; attempt++) {
    const now = deps.now();
    const staging = move.member.index === STAGING;
    const members = staging ? d.members : d.members.map((x) => (x.index === move.member.index ? move.member : x));
    const changes = {
      members,
      failures: d.failures + (move.failed ? 1 : 0),
      ...(staging ? { staging: move.member } : {}),
      ...(d.tree && move.relays ? { tree: withRelays(d.tree, move.relays) } : {}),
    };
    const writes: Write[] = [deps.deployments.saveWrite(revise(d, changes, now))];
    if (move.machine && move.member.machine) {
      const m = await deps.machines.get(move.member.machine);
      if (m) writes.push(deps.machines.saveWrite(machineAfter(m, d, move, now)));
    }
    // The deployment's operation shows how many members have ended.
    const op = move.member.outcome && !staging ? await deps.operations.get(d.operation) : undefined;
    if (op?.status === 'running') {
      const progress = members.filter((x) => x.outcome).length / members.length;
      writes.push(deps.operations.saveWrite({ ...op, progress, updatedAt: now, rev: op.rev + 1 }));
    }
    try {
      return await deps.db.transact(writes);
    } catch (e) {
      if ((!(e instanceof TransactionConflict) && !(e instanceof StaleRecordError)) || attempt >= 50) throw e;
      await sleep(5 + Math.random() * 20 * Math.min(attempt, 5));
      d = await getDeployment(deps, d.id);
    }
  }
}

function machineAfter(m: Machine, d: Deployment, move: Move, now: string): Machine {
  if (move.machine === 'ready') return m.state === 'quarantined' ? m : readied(m, now);
  const error = move.member.error ?? { code: 'failed', message: 'the member failed' };
  return revise<Machine>(
    m,
    {
      state: 'quarantined',
      reservation: undefined,
      quarantine: {
        deployment: d.id,
        member: move.member.index,
        error: { code: error.code, message: error.message },
        at: now,
      },
    },
    now,
  );
}

async function nextOf(deps: Deps, d: Deployment, m: DeploymentMember, mode: DeploymentMode): Promise<Next> {
  if (m.operation) return afterOperation(d, m, await deps.operations.get(m.operation));
  // Finalizing an update that was rolled back destroys the new clones the rollback let go.
  if (mode === 'delete' && m.outcome === 'rolled_back' && d.scenario === 'service_update') {
    const phases = { ...m.phases, delete: [{ binding: 'destroyed' as const }] };
    return {
      kind: 'move',
      move: { member: { ...m, phases, outcome: undefined, teardown: mode, reached: 0, attempts: 0 } },
    };
  }
  // A phase picks the members it tears down; every other member is done for it.
  if (!m.teardown && mode !== 'deploy' && mode !== 'prepare') {
    // A rollback of an update that was prepared and never rolled out lets its machines go.
    if (!m.outcome && m.step === 'pending' && mode === 'rollback')
      return { kind: 'move', move: { member: { ...m, step: 'done', outcome: 'skipped' }, machine: 'ready' } };
    if (m.outcome !== 'succeeded') return { kind: 'done' };
    return { kind: 'move', move: { member: { ...m, outcome: undefined, teardown: mode, reached: 0, attempts: 0 } } };
  }
  if (m.outcome) return { kind: 'done' };
  if (m.step === 'pending' && !m.teardown) {
    const { maxFailures, onFailure } = d.failurePolicy;
    if (onFailure !== 'continue' && d.failures > maxFailures)
      return { kind: 'move', move: { member: { ...m, step: 'done', outcome: 'skipped' }, machine: 'ready' } };
  }
  const goals = goalsOf(d, m);
  const reached = m.reached ?? 0;
  const goal = goals[reached];
  if (!goal) {
    // A member that was brought up passes its health check before it succeeds.
    if (!m.teardown && m.healthCheck && m.machine && !m.health?.healthy)
      return start(deps, d, { ...m, step: 'health' }, undefined, undefined);
    return { kind: 'move', move: ended(d, m) };
  }
  const cloneId = goal.clone ?? m.cloneId;
  const clone = cloneId ? await deps.clones.get(cloneId) : undefined;
  const step = converge(clone, goal);
  if (step === 'done') {
    if (goal.hook) return start(deps, d, { ...m, step: 'hook' }, goal, clone);
    return { kind: 'move', move: { member: { ...m, reached: reached + 1, attempts: 0 } } };
  }
  if (step === 'clone' && (goal.clone || m.teardown))
    return failed(m, { code: 'clone_gone', message: `clone ${cloneId ?? m.clone} is gone`, step }, d);
  return start(deps, d, { ...m, step }, goal, clone);
}

/** A member whose goals are all reached: succeeded, or torn down (a failed member's machine is quarantined). */
function ended(d: Deployment, m: DeploymentMember): Move {
  const member = { ...m, step: 'done' as const, operation: undefined };
  // A prepared staging clone keeps its machine reserved until the update is approved or rolled back.
  if (!m.teardown)
    return { member: { ...member, outcome: 'succeeded' }, machine: m.index === STAGING ? undefined : 'ready' };
  const outcome = ({ failed: 'failed', rollback: 'rolled_back', delete: 'removed', approve: 'captured' } as const)[
    m.teardown
  ];
  const quarantine = m.teardown === 'failed' && (d.scenario ?? 'deployment') === 'deployment';
  return { member: { ...member, outcome }, machine: quarantine ? 'quarantine' : 'ready' };
}

function afterOperation(d: Deployment, m: DeploymentMember, op: Operation | undefined): Next {
  if (op?.status === 'running') return { kind: 'wait' };
  const base = { ...m, operation: undefined };
  if (m.step === 'health' && op) {
    const detail = op.status === 'succeeded' ? String(op.result?.detail ?? 'passed') : (op.error?.message ?? op.status);
    base.health = { healthy: op.status === 'succeeded', detail, at: op.updatedAt, operation: op.id };
  }
  // The next step follows from the clone's new state; a hook, which leaves no state, reaches its goal.
  if (op?.status === 'succeeded') {
    const reached = m.step === 'hook' ? { reached: (m.reached ?? 0) + 1 } : {};
    return {
      kind: 'move',
      move: { member: { ...base, ...reached, attempts: 0, cloneId: m.step === 'clone' ? op.resource.id : m.cloneId } },
    };
  }
  const error = op?.error ?? { code: 'lost', message: `operation ${m.operation} is gone` };
  if (RETRYABLE.has(error.code) && m.attempts < MAX_ATTEMPTS) return { kind: 'move', move: { member: base } };
  return failed(base, { code: error.code, message: error.message, step: m.step, operation: m.operation }, d);
}

function failed(m: DeploymentMember, error: NonNullable<DeploymentMember['error']>, d?: Deployment): Next {
  if (m.teardown) {
    // The teardown itself failed: what is left stays as it is, and the member ends failed with the error.
    const quarantine = (d?.scenario ?? 'deployment') === 'deployment';
    const told = m.error
      ? { ...m.error, message: `${m.error.message}; then putting it back failed at ${error.step}: ${error.message}` }
      : error;
    const member = { ...m, step: 'done' as const, outcome: 'failed' as const, error: told };
    return { kind: 'move', move: { member, machine: quarantine ? 'quarantine' : 'ready' } };
  }
  return { kind: 'move', move: { member: { ...m, error, teardown: 'failed', reached: 0, attempts: 0 }, failed: true } };
}

/** Starts the member's step as an operation of its own; a refusal is the step's failure. */
async function start(
  deps: Deps,
  d: Deployment,
  m: DeploymentMember,
  goal: Goal | undefined,
  clone: Clone | undefined,
): Promise<Next> {
  const parent: Parent = { operation: d.operation, actor: d.actor, deployment: d.id };
  let accepted: { operation: string };
  try {
    if (m.step === 'health') {
      accepted = await checkHealthAction(deps, undefined, m.machine!, m.healthCheck!, parent);
    } else if (m.step === 'hook') {
      accepted = await runHookAction(deps, clone!, goal!.hook!, parent);
    } else if (m.step === 'clone' && d.tree) {
      // A tree's member is copied from its relay once that is made, into the repository planned for it.
      const source = await sourceOf(deps, d, m);
      if (source.kind === 'wait')
        return source.patches.length ? { kind: 'move', move: { member: m, relays: source.patches } } : { kind: 'wait' };
      if (source.kind === 'failed') return failed(m, { ...source.error, step: m.step }, d);
      accepted = await createCloneAction(
        deps,
        undefined,
        { master: d.master, name: m.clone, repository: m.repository, method: (m.method ?? d.method) as 'auto' },
        parent,
        { source: source.clone },
      );
    } else if (m.step === 'clone') {
      const repository = await deps.repositories.get(d.repository);
      accepted = await createCloneAction(
        deps,
        undefined,
        { master: d.master, name: m.clone, repository: repository?.id, method: d.method as 'auto' },
        parent,
      );
    } else {
      // An operational clone is bound as it is; a clean one is customized for the machine.
      const customization =
        clone?.metastate === 'clean' ? { items: d.items, variables: goal?.variables ?? {} } : undefined;
      const body =
        m.step === 'assign'
          ? { machine: goal?.machine, ...(customization ? { customization } : {}) }
          : m.step === 'relocate'
            ? { repository: goal?.repository }
            : {};
      accepted = await cloneEvent(deps, undefined, clone!.id, m.step as LifecycleEvent, body, parent);
    }
  } catch (e) {
    // Someone else's operation holds the clone: wait for it.
    if (e instanceof BusyError) return { kind: 'wait' };
    if (!(e instanceof ApiError)) throw e;
    return failed(m, { code: e.code, message: e.message, step: m.step }, d);
  }
  return { kind: 'move', move: { member: { ...m, operation: accepted.operation, attempts: m.attempts + 1 } } };
}

/**
 * Ends a service update's staging phase. A prepared clone ends the prepare (the update waits for
 * its approval); a captured one makes the new master version the one the roll-out clones, and the
 * same execution goes on to roll it out.
 */
async function finishStaging(deps: Deps, operation: string, d: Deployment, mode: 'prepare' | 'approve') {
  const staging = d.staging!;
  const wanted = mode === 'prepare' ? 'succeeded' : 'captured';
  const clone = staging.cloneId ? await deps.clones.get(staging.cloneId) : undefined;
  if (staging.outcome === wanted && mode === 'prepare') return { ...(await commit(deps, operation, { mode })) };
  const captured = clone?.capturedAs ? await deps.masters.get(clone.capturedAs) : undefined;
  if (staging.outcome === wanted && captured) {
    await deps.db.transact([
      deps.deployments.saveWrite(revise(d, { master: captured.id, masterName: captured.name }, deps.now())),
    ]);
    return { next: { mode: 'deploy', members: d.members.map((m) => m.index) } };
  }
  const error = staging.error ?? { code: 'not_captured', message: 'the staging clone was not captured', step: mode };
  const message = `${mode === 'prepare' ? 'preparing' : 'capturing'} the update on machine ${staging.machineName} failed at ${error.step}: ${error.message}; no machine of the service was touched`;
  return recordFailure(deps, operation, {
    Error: error.code,
    Cause: JSON.stringify({ code: error.code, message }),
  });
}

/** Ends a phase of the deployment: its operation succeeds when every member did, else fails saying how many did not. */
export async function finishDeployment(deps: Deps, operation: string, id: string, mode: DeploymentMode) {
  // A tree's relays go first: the workflow asks again while they are being removed.
  const relays = await removeRelays(deps, id);
  if (!relays.done) return { again: true };
  const d = await getDeployment(deps, id);
  const count = (o: DeploymentMember['outcome']) => d.members.filter((m) => m.outcome === o).length;
  const { maxFailures, onFailure } = d.failurePolicy;
  if (mode === 'deploy' && onFailure === 'rollback' && d.failures > maxFailures && count('succeeded') > 0)
    return { next: { mode: 'rollback', members: d.members.map((m) => m.index) } };
  if (mode === 'prepare' || mode === 'approve') return finishStaging(deps, operation, d, mode);
  // A deployment's rollback ends its failed deploy; a phase asked for later (a service update's
  // rollback, a delete, a finalize) answers for the members it tore down only.
  const ofDeploy = mode === 'deploy' || (mode === 'rollback' && (d.scenario ?? 'deployment') === 'deployment');
  const failures = d.members.filter((m) => m.outcome === 'failed' && (ofDeploy || m.teardown === mode));
  const clean = failures.length === 0 && (!ofDeploy || count('skipped') === 0);
  if (clean) return { rollback: false, ...(await commit(deps, operation, { mode })) };
  const first = failures[0]?.error;
  const what =
    mode === 'delete'
      ? `${failures.length} of ${d.members.length} members could not be torn down`
      : `${failures.length} of ${d.members.length} members failed (succeeded ${count('succeeded')}, skipped ${count('skipped')}, rolled back ${count('rolled_back')})`;
  const scenario = d.scenario ?? 'deployment';
  const after =
    scenario === 'deployment'
      ? 'the machines of failed members are quarantined'
      : scenario === 'service_update'
        ? 'each machine whose update failed runs its old clone again'
        : 'the clone was put back where it was';
  const message = `${what}${first ? ` (member ${failures[0]!.index}, ${first.step}: ${first.message})` : ''}; ${after}: see GET ${scenarioLink(scenario, id)}`;
  const ended = await recordFailure(deps, operation, {
    Error: 'members_failed',
    Cause: JSON.stringify({ code: 'members_failed', message }),
  });
  return { rollback: false, ...ended };
}
