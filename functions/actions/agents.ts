/**
 * A site's agents, one per host, and where work goes among them. Each agent reports itself
 * (`PUT /v1/sites/{id}/agents/{host}`); its first report creates its host's lane (statemachines/names.ts):
 * an activity and a copy of the state machines that only that agent polls. Work is routed when it is
 * accepted, by the hosts its task names (a host-local repository, a machine's host):
 * - none: the site's lane, which every agent of the site polls, so any of them takes it and a task
 *   whose agent died (its heartbeat stopped) is handed to another by the workflow's retry;
 * - one: that host's lane; only its agent can reach the disk or the machine;
 * - several: refused, since agents talk only to the control plane and never read each other's disks.
 */
import { laneOf, stateMachineName } from '../../statemachines/names';
import type { Principal } from '../auth/principal';
import { requireAgentOf } from '../auth/principal';
import type { Deps } from '../deps';
import { HOST_RULE, hostName } from '../domain/schemas';
import { ConflictError, InvalidInputError, NotFoundError, StaleRecordError } from '../errors';
import type { AgentInfo, Site } from '../store/records';
import { revise } from '../store/resources';
import { checkRepositoryAction } from './repository-check';

/** An agent not heard from for this long is reported silent by the health check. */
export const AGENT_SILENCE_MS = 30_000;

export const agentsOf = (site: Site): AgentInfo[] => Object.values(site.agents ?? {});

export const isLive = (a: AgentInfo, now = Date.now()) => now - Date.parse(a.lastSeen) <= AGENT_SILENCE_MS;

/** What the health check says of one agent. */
export const agentStatus = (a: AgentInfo, now = Date.now()) => (isLive(a, now) ? 'ok' : `silent since ${a.lastSeen}`);

/** The hooks the site's agents name (a hook of an agent's configuration). */
export const hooksOf = (site: Site) => {
  const byName = new Map(agentsOf(site).flatMap((a) => (a.hooks ?? []).map((h) => [h.name, h] as const)));
  return [...byName.values()];
};

/** Storage tasks the site's live agents run at once per repository, together (4 when none has said). */
export const slotsOf = (site: Site, now = Date.now()) =>
  agentsOf(site)
    .filter((a) => isLive(a, now))
    .reduce((sum, a) => sum + (a.slots ?? 4), 0) || 4;

export class CrossHostError extends ConflictError {
  override readonly code = 'cross_host';
  constructor(hosts: string[]) {
    super(
      `this work needs the host-local storage or machines of hosts ${hosts.join(' and ')} at once, but an agent reaches only its own host; split it into one request per host (a discovery: one per host's seeds), or use a shared repository (one without "host") for one side`,
      { hosts },
    );
  }
}

export class NoAgentOnHostError extends ConflictError {
  override readonly code = 'no_agent_on_host';
  constructor(site: string, host: string, lastSeen?: string) {
    super(
      lastSeen
        ? `the agent on host "${host}" of site "${site}" has been silent since ${lastSeen}, so nobody can reach that host's repositories and machines; restart it (its configuration says "host": "${host}"), then retry`
        : `no agent on host "${host}" of site "${site}" has reported, so nobody can reach that host's repositories and machines; start one with "host": "${host}" in its configuration, then retry`,
      { site, host, ...(lastSeen ? { lastSeen } : {}) },
    );
  }
}

/** The hosts named by the repository and machine references in a task's input. */
export function hostsOf(input: unknown): string[] {
  const hosts = new Set<string>();
  const walk = (v: unknown, key?: string) => {
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v && typeof v === 'object') {
      const host = (v as { host?: unknown }).host;
      if ((key === 'repository' || key === 'machine') && typeof host === 'string') hosts.add(host);
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(input);
  return [...hosts].sort();
}

/**
 * The lane that work of `site` naming these hosts goes to; refused when no live agent is on its host.
 * Checked before the operation is written, so a refused request changes nothing.
 */
export async function laneFor(deps: Deps, siteName: string, input: unknown): Promise<string> {
  const hosts = hostsOf(input);
  if (hosts.length === 0) return laneOf(siteName);
  if (hosts.length > 1) throw new CrossHostError(hosts);
  const host = hosts[0]!;
  const site = await deps.sites.require(siteName);
  const agent = site.agents?.[host];
  if (!agent?.lane || !isLive(agent, Date.parse(deps.now())))
    throw new NoAgentOnHostError(site.name, host, agent?.lastSeen);
  return laneOf(site.name, host);
}

export type AgentReport = Omit<AgentInfo, 'lastSeen' | 'host' | 'lane'>;

/**
 * An agent's report: it is alive, with what it can do. Its first report creates its host's lane; a
 * report with a new `startedAt` (the agent restarted) starts a check of the repositories it reaches.
 */
export async function reportAgentAction(
  deps: Deps,
  p: Principal | undefined,
  siteRef: string,
  host: string,
  body: AgentReport,
) {
  let site = await deps.sites.require(siteRef);
  requireAgentOf(p, site, 'heartbeats');
  if (!hostName.safeParse(host).success)
    throw new InvalidInputError(`path.host "${host}": ${HOST_RULE}; set "host" in the agent's configuration`, {
      problems: [`path.host: ${HOST_RULE}`],
    });
  const longest = stateMachineName(laneOf(site.name, host), 'transition');
  if (longest.length > 80)
    throw new InvalidInputError(
      `host "${host}" with site "${site.name}" makes the workflow name ${longest}, longer than Step Functions' 80 characters; give the agent a shorter "host"`,
      { problems: ['path.host: too long for this site'] },
    );
  if (!site.agents?.[host]?.lane) await deps.workflows.provisionLane(site.name, host);
  // Agents of one site report at once: a report lost to another's write is made again on the fresh record.
  for (let attempt = 0; ; attempt++) {
    const now = deps.now();
    const before = site.agents?.[host];
    // A report that does not list hooks leaves those listed before (the agent lists them, `[]` for none).
    const hooks = body.hooks ?? before?.hooks;
    const agent: AgentInfo = { ...body, host, lane: true, lastSeen: now, ...(hooks ? { hooks } : {}) };
    try {
      await deps.sites.save(revise(site, { agents: { ...site.agents, [host]: agent } }, now));
      const started = body.startedAt !== undefined && body.startedAt !== before?.startedAt;
      const checks = started ? await checkReached(deps, p, site, host) : [];
      return { site: site.name, host, lastSeen: now, ...(started ? { checks } : {}) };
    } catch (e) {
      if (!(e instanceof StaleRecordError) || attempt >= 4) throw e;
      site = await deps.sites.require(site.id);
    }
  }
}

/**
 * `DELETE /v1/sites/{id}/agents/{host}`: forgets a host's agent (a host taken out of service) and
 * removes its lane. Its agent, if it still runs, makes both again with its next report.
 */
export async function forgetAgentAction(deps: Deps, siteRef: string, host: string) {
  for (let attempt = 0; ; attempt++) {
    const site = await deps.sites.require(siteRef);
    if (!site.agents?.[host]) throw new NotFoundError('agent', `${host} of site ${site.name}`);
    const { [host]: _gone, ...rest } = site.agents;
    try {
      await deps.sites.save(revise(site, { agents: rest }, deps.now()));
      await deps.workflows.removeLane(site.name, host);
      return { site: site.name, forgotten: host };
    } catch (e) {
      if (!(e instanceof StaleRecordError) || attempt >= 4) throw e;
    }
  }
}

/** Starts a check of every repository the agent on `host` reaches; one that cannot start is logged. */
async function checkReached(deps: Deps, p: Principal | undefined, site: Site, host: string): Promise<string[]> {
  const repositories = (await deps.repositories.listAll()).filter(
    (r) => r.site === site.name && (r.host === undefined || r.host === host),
  );
  const started: string[] = [];
  for (const r of repositories) {
    try {
      started.push((await checkRepositoryAction(deps, p, r.id)).operation);
    } catch (e) {
      console.error(`site ${site.name}: the check of repository ${r.name} could not start: ${(e as Error).message}`);
    }
  }
  return started;
}
