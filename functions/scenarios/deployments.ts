/**
 * `POST /v1/deployments`: many clones of one master, each built, bound, attached and powered on on
 * a machine of its own, as one operation with an outcome per member.
 *
 * Accept picks the machines (the list given, or `count` free ones that match the selector and the
 * master's requirements), renders each member's clone name and variables, and reserves the machines
 * in the same transactions as the deployment record: a machine is never picked twice, and a request
 * that cannot be met reserves nothing. The deployment workflow then runs the members (members.ts).
 */
import type { z } from 'zod';
import type { DeploymentMode } from '../../statemachines/steps';
import { accept } from '../actions/accept';
import { slotsOf } from '../actions/agents';
import { cloneSource } from '../actions/clones';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { Deps } from '../deps';
import { missingVariables, namesIn, templateOf, unknownVariables } from '../domain/customization';
import type { createDeployment } from '../domain/schemas';
import { ConflictError, InvalidInputError, NotFoundError, UnknownVariableError } from '../errors';
import { nameKey, TransactionConflict, type Write } from '../store/db';
import { newId } from '../store/ids';
import type { Deployment, DeploymentMember, Machine, Master, Repository, Scenario, Site } from '../store/records';
import { revise } from '../store/resources';
import { sha256Hex } from '../store/tokens';
import { type Cascade, cascade, treeView } from './cascade';
import { ClientTokenReusedError, DeploymentRunningError, NotEnoughMachinesError } from './errors';
import { readied, stateOf } from './machine-state';
import { candidates, named, renderMembers } from './selection';
import { interleaved } from './tree';

type Body = z.infer<typeof createDeployment>;

/** A transaction holds 100 writes: the first also carries the deployment, its name, its token, the operation and the audit entry. */
const FIRST_CHUNK = 95;
const CHUNK = 100;
/** Picks again from what is free when another request took a picked machine meanwhile. */
const PICK_ATTEMPTS = 3;

const tokenKey = (token: string) => nameKey('deployment-token', token);

const reserveWrite = (deps: Deps, m: Machine, deployment: string, now: string) =>
  deps.machines.saveWrite(revise<Machine>(m, { state: 'reserved', reservation: deployment }, now));

/** The reservations of the chunks after the first, each all or nothing; on a conflict those made are released. */
async function reserveRest(deps: Deps, machines: Machine[], deployment: string, now: string): Promise<Machine[]> {
  const done: Machine[] = [];
  try {
    for (let i = FIRST_CHUNK; i < machines.length; i += CHUNK) {
      const chunk = machines.slice(i, i + CHUNK);
      await deps.db.transact(chunk.map((m) => reserveWrite(deps, m, deployment, now)));
      done.push(...chunk.map((m) => revise<Machine>(m, { state: 'reserved', reservation: deployment }, now)));
    }
    return done;
  } catch (e) {
    await releaseAll(deps, done);
    throw e;
  }
}

/** Makes reserved machines ready again (best effort, each on its own: a conflict means someone else changed it). */
export async function releaseAll(deps: Deps, machines: Machine[]): Promise<void> {
  for (const m of machines) {
    const now = await deps.machines.get(m.id);
    if (now && stateOf(now) === 'reserved' && now.reservation === m.reservation)
      await deps.machines.save(readied(now, deps.now())).catch(() => undefined);
  }
}

/**
 * Refuses a variable of the request that nothing uses: not the master's template, not the request's
 * items, nor its clone name, health check or other variables (which may build on it).
 */
function refuseUnusedVariables(body: Body, master: Master) {
  const { unknown, expected } = unknownVariables([...master.customization, ...(body.items ?? [])], body.variables);
  const check = body.healthCheck;
  const templates = [
    body.name ?? '',
    ...(check ? [check.kind === 'tcp' ? check.host : check.kind === 'http' ? check.url : check.marker] : []),
    ...Object.values(body.variables ?? {}),
  ];
  const helpers = namesIn(templates);
  const unused = unknown.filter((name) => !helpers.includes(name));
  if (unused.length)
    throw new UnknownVariableError(
      'body.variables',
      unused,
      expected,
      templateOf(master, body.items?.length ? 'body.items' : ''),
    );
}

export async function createDeploymentAction(deps: Deps, p: Principal | undefined, body: Body) {
  const { dryRun, clientToken, ...asked } = body;
  const requestHash = await sha256Hex(JSON.stringify(asked));
  if (clientToken && !dryRun) {
    const again = await byToken(deps, clientToken, requestHash);
    if (again) return again;
  }
  const { master, repo, masterRepo } = await cloneSource(deps, body.master, body.repository);
  refuseUnusedVariables(body, master);
  const missing = missingVariables([...master.customization, ...(body.items ?? [])], body.variables ?? {});
  if (missing.length)
    throw new InvalidInputError(
      `the customization uses ${missing.map((v) => `\${${v}}`).join(', ')}, which body.variables does not give; add them, e.g. "variables": {"${missing[0]}": "…-\${index}"}`,
      { problems: missing.map((v) => `body.variables.${v}: missing`) },
    );

  for (let attempt = 1; ; attempt++) {
    const id = newId('deployment');
    let machines: Machine[];
    if (body.machines) machines = await named(deps, body.machines, master, repo);
    else {
      const { matched, free, detail } = await candidates(deps, body, master, repo);
      if (free.length < body.count!) throw new NotEnoughMachinesError(body.count!, free.length, matched.length, detail);
      machines = free.slice(0, body.count!);
    }
    const rendered = renderMembers(body, master, machines, id);
    const tree = body.fanout
      ? await cascade(deps, {
          id,
          fanout: body.fanout,
          method: body.method,
          master,
          masterRepo,
          repository: body.repository ? repo : undefined,
          machines,
          members: rendered,
        })
      : undefined;
    const members = tree?.members ?? rendered;
    for (const m of members)
      if (await deps.db.get(nameKey('clone', m.clone)))
        throw new ConflictError(`a clone named "${m.clone}" already exists (member ${m.index}); change body.name`, {
          clone: m.clone,
        });
    if (dryRun) return dryRunOf(deps, { members, repo, method: body.method, tree, master, masterRepo });
    try {
      return await reserveAndStart(deps, p, {
        id,
        body,
        master,
        repo,
        machines,
        members,
        tree,
        requestHash,
        clientToken,
      });
    } catch (e) {
      if (!(e instanceof TransactionConflict)) throw e;
      if (clientToken) {
        const again = await byToken(deps, clientToken, requestHash);
        if (again) return again;
      }
      if (body.machines)
        throw new ConflictError('another request took one of body.machines meanwhile; nothing was reserved', {});
      if (attempt >= PICK_ATTEMPTS)
        throw new ConflictError(
          `other requests kept taking the machines picked (${PICK_ATTEMPTS} tries); nothing was reserved, retry`,
          {},
        );
    }
  }
}

/** What a dry run answers: each member's clone and where it goes, and the tree when there is one. */
async function dryRunOf(
  deps: Deps,
  a: {
    members: DeploymentMember[];
    repo: Repository;
    method: string;
    tree?: Cascade;
    master: Master;
    masterRepo: Repository;
  },
) {
  const names = a.tree ? new Map((await deps.repositories.listAll()).map((r) => [r.id, r.name])) : undefined;
  const plan = a.members.map((m) => ({
    index: m.index,
    machine: m.machineName,
    clone: m.clone,
    variables: m.variables,
    repository: m.repository ? (names?.get(m.repository) ?? m.repository) : a.repo.name,
    method: m.method ?? a.method,
    ...(a.tree ? { source: m.source ?? a.master.name, generation: m.generation } : {}),
  }));
  if (!a.tree) return { dryRun: true, plan };
  return { dryRun: true, plan, tree: await treeView(deps, a.tree, a.master, a.masterRepo) };
}

/** The deployment a clientToken already made: the same one again (200), or 409 for another body. */
async function byToken(deps: Deps, token: string, requestHash: string) {
  const hit = await deps.db.get<{ id: string }>(tokenKey(token));
  if (!hit) return undefined;
  const d = await deps.deployments.get(hit.id);
  if (!d) return undefined;
  if (d.requestHash !== requestHash) throw new ClientTokenReusedError(token, d.id);
  return { id: d.id, operation: d.operation, status: 'running' as const, again: true, links: links(d.id, d.operation) };
}

/** Where each scenario's records are read. */
export const scenarioPaths = {
  deployment: 'deployments',
  migration: 'migrations',
  reassignment: 'reassignments',
  service_update: 'service-updates',
} as const;

/** Where a scenario's record is read. */
export const scenarioLink = (scenario: Scenario, id: string) => `/v1/${scenarioPaths[scenario]}/${id}`;

const links = (id: string, operation: string, scenario: keyof typeof scenarioPaths = 'deployment') => ({
  self: scenarioLink(scenario, id),
  operation: `/v1/operations/${operation}`,
});

/** The record of a scenario as accept writes it, before its operation is known. */
export type ScenarioRecord = Omit<Deployment, 'operation'>;

/**
 * The deployment workflow's input: the indexes of the members the phase runs, at most the agent's
 * slots at once. A service update's staging member (0) is prepared and approved alone, and a
 * rollback also takes back a staging clone that was prepared.
 */
export function workflowInput(d: ScenarioRecord, mode: DeploymentMode, site: Site) {
  const staging = d.staging ? [d.staging.index] : [];
  const members =
    mode === 'prepare' || mode === 'approve'
      ? staging
      : [
          ...(mode === 'rollback' && d.staging?.outcome === 'succeeded' ? staging : []),
          // A tree's members run at once from different relays (tree.ts interleaved).
          ...(d.tree ? interleaved(d.members) : d.members.map((m) => m.index)),
        ];
  return { deployment: d.id, mode, members, concurrency: d.concurrency ?? slotsOf(site) };
}

/** Reserves `machines` for the scenario and starts its workflow, in the transactions described above. */
export async function startScenario(
  deps: Deps,
  p: Principal | undefined,
  a: { record: ScenarioRecord; machines: Machine[]; extra?: Write[]; mode?: DeploymentMode; kind?: string },
) {
  const { record } = a;
  const now = deps.now();
  const rest = await reserveRest(deps, a.machines, record.id, now);
  const site = await deps.sites.require(record.site);
  const scenario = record.scenario ?? 'deployment';
  try {
    const accepted = await accept(
      deps,
      p,
      {
        workflow: 'deployment',
        kind: a.kind ?? scenario,
        resource: { kind: 'deployment', id: record.id, name: record.id },
        site: record.site,
        request: { master: record.master, members: record.members.length },
        firstStep: 'members',
        input: workflowInput(record, a.mode ?? 'deploy', site),
      },
      (op) => [
        ...deps.deployments.createWrites({ ...record, operation: op.id }),
        ...(a.extra ?? []),
        ...a.machines.slice(0, FIRST_CHUNK).map((m) => reserveWrite(deps, m, record.id, now)),
      ],
    );
    return { id: record.id, ...accepted, links: links(record.id, accepted.operation, scenario) };
  } catch (e) {
    await releaseAll(deps, rest);
    throw e;
  }
}

async function reserveAndStart(
  deps: Deps,
  p: Principal | undefined,
  a: {
    id: string;
    body: Body;
    master: Master;
    repo: Repository;
    machines: Machine[];
    members: DeploymentMember[];
    tree?: Cascade;
    requestHash: string;
    clientToken?: string;
  },
) {
  const now = deps.now();
  const record: ScenarioRecord = {
    id: a.id,
    name: a.id,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    site: a.repo.site,
    master: a.master.id,
    masterName: a.master.name,
    repository: a.repo.id,
    method: a.body.method,
    activate: a.body.activate,
    failurePolicy: a.body.failurePolicy,
    items: a.body.items ?? [],
    ...(a.clientToken ? { clientToken: a.clientToken } : {}),
    requestHash: a.requestHash,
    status: 'running',
    failures: 0,
    members: a.members,
    ...(a.tree ? { tree: a.tree.tree } : {}),
    actor: actorOf(p),
  };
  const extra = a.clientToken ? [deps.db.putNew({ ...tokenKey(a.clientToken), id: a.id, kind: 'deployment' })] : [];
  return startScenario(deps, p, { record, machines: a.machines, extra });
}

export async function getDeployment(deps: Deps, ref: string, scenario?: Scenario): Promise<Deployment> {
  const d = await deps.deployments.get(ref);
  if (!d || (scenario && (d.scenario ?? 'deployment') !== scenario))
    throw new NotFoundError(scenario ?? 'deployment', ref);
  return d;
}

/** A tree's member: the images its clone is copied through, by name, the master first. */
function lineageOf(d: Deployment, m: DeploymentMember): string[] {
  const relays = new Map(d.tree!.relays.map((r) => [r.name, r]));
  const chain: string[] = [];
  for (let r = m.source ? relays.get(m.source) : undefined; r; r = r.parent ? relays.get(r.parent) : undefined)
    chain.unshift(r.name);
  return [d.masterName, ...chain];
}

export function deploymentView(d: Deployment) {
  const count = (o: string) => d.members.filter((m) => m.outcome === o).length;
  return {
    ...d,
    ...(d.tree ? { members: d.members.map((m) => ({ ...m, lineage: lineageOf(d, m) })) } : {}),
    summary: {
      members: d.members.length,
      succeeded: count('succeeded'),
      failed: count('failed'),
      skipped: count('skipped'),
      rolledBack: count('rolled_back'),
      inProgress: d.members.filter((m) => !m.outcome).length,
    },
  };
}

/** `DELETE /v1/deployments/{id}`: tears down every member that succeeded (reverse steps), then removes the record. */
export async function deleteDeploymentAction(deps: Deps, p: Principal | undefined, ref: string) {
  const d = await getDeployment(deps, ref, 'deployment');
  if (d.status === 'running' || d.status === 'deleting') throw new DeploymentRunningError(d.id, d.operation);
  const site = await deps.sites.require(d.site);
  const now = deps.now();
  const accepted = await accept(
    deps,
    p,
    {
      workflow: 'deployment',
      kind: 'deployment_delete',
      resource: { kind: 'deployment', id: d.id, name: d.id },
      site: d.site,
      request: {},
      firstStep: 'members',
      input: workflowInput(d, 'delete', site),
    },
    (op) => [deps.deployments.saveWrite(revise(d, { status: 'deleting', operation: op.id }, now))],
  );
  return { id: d.id, ...accepted, links: links(d.id, accepted.operation) };
}

/** Deployments only (migrations and reassignments share the records); a page may hold fewer than `limit`. */
export async function listDeployments(deps: Deps, page: { limit?: number; cursor?: string }) {
  const p = await deps.deployments.list(page);
  const items = p.items.filter((d) => (d.scenario ?? 'deployment') === 'deployment').map(deploymentView);
  return { items, ...(p.cursor ? { cursor: p.cursor } : {}) };
}
