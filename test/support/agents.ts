/** Extra agents of a site on hosts of their own, beside the stack's agent: real agent processes. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startAgent } from '../../infra/local/agent';
import type { Child } from '../../infra/local/children';
import type { Stack } from '../../infra/local/stack';
import { HEARTBEAT_INTERVAL_SECONDS } from '../../statemachines/constants';
import type { Api } from './api';

export interface HostAgent {
  host: string;
  /** Its state directory: its journal files are named after the operations it ran. */
  stateDir: string;
  child: Child;
}

/** Where the agent finds the stack: the test run's `inject('stack')`, or a benchmark's own stack. */
export type StackEndpoints = Pick<Stack, 'url' | 'endpoints' | 'stepFunctionsCredentials'>;

/** Starts the agent of `host` on `site` with an agent token of that site; resolves once it polls. */
export async function startHostAgent(o: {
  stack: StackEndpoints;
  site: string;
  host: string;
  token: string;
  dir: string;
  /** false: it takes only its host's work, never the site's shared work (other suites' tasks). */
  sharedWork?: boolean;
  /** The shared repositories it reaches (names or ids); absent: every shared repository of its site. */
  repositories?: { shared?: string[] };
}): Promise<HostAgent> {
  const s = o.stack;
  const dir = join(o.dir, `agent-${o.host}`);
  await mkdir(dir, { recursive: true });
  const stateDir = join(dir, 'state');
  const child = await startAgent({
    config: {
      site: o.site,
      host: o.host,
      api: s.url,
      token: o.token,
      region: 'us-east-1',
      accountId: '000000000000',
      stepFunctionsEndpoint: s.endpoints.stepfunctions,
      credentials: s.stepFunctionsCredentials,
      stateDir,
      concurrency: 4,
      maxTasks: 64,
      heartbeatSeconds: HEARTBEAT_INTERVAL_SECONDS,
      ...(o.sharedWork === false ? { sharedWork: false } : {}),
      ...(o.repositories ? { repositories: o.repositories } : {}),
    },
    dir,
    logFile: join(dir, 'agent.log'),
  });
  return { host: o.host, stateDir, child };
}

/**
 * Starts an agent on each of `hosts` of `site` under `dir`, all with one new agent token of the site;
 * resolves once every one polls. `options` gives a host's agent its own configuration (its repositories).
 */
export async function startHostAgents(
  api: Api,
  o: {
    stack: StackEndpoints;
    site: string;
    hosts: readonly string[];
    dir: string;
    label: string;
    options?: (host: string) => Pick<Parameters<typeof startHostAgent>[0], 'sharedWork' | 'repositories'>;
  },
): Promise<HostAgent[]> {
  const token = await api.post('/v1/tokens', { role: 'agent', site: o.site, label: o.label });
  if (token.status !== 201) throw new Error(`an agent token for site ${o.site}: ${JSON.stringify(token.body)}`);
  return Promise.all(
    o.hosts.map((host) =>
      startHostAgent({ stack: o.stack, site: o.site, host, token: token.body.token, dir: o.dir, ...o.options?.(host) }),
    ),
  );
}

/** Stops the agent and has the site forget its host, so no silent agent is left in the health check. */
export async function stopHostAgent(api: Api, site: string, a: HostAgent): Promise<void> {
  await a.child.stop();
  await api.del(`/v1/sites/${site}/agents/${a.host}`);
}

/**
 * Removes a site's deployments and clones (unassigning the assigned ones first), waiting for each
 * operation: call it while the site's agents still run, since every step is a task of its host.
 */
export async function removeSiteClones(api: Api, site: string): Promise<void> {
  const settle = async (reply: Promise<{ body: any }>) => {
    const operation = (await reply).body?.operation;
    if (operation) await api.wait(operation, 60_000);
  };
  for (const d of (await api.get('/v1/deployments?limit=200')).body.items ?? [])
    if (d.site === site) await settle(api.del(`/v1/deployments/${d.id}`));
  for (const c of (await api.get(`/v1/clones?site=${site}&limit=200`)).body.items ?? []) {
    if (c.binding === 'assigned') await settle(api.post(`/v1/clones/${c.id}/unassign`));
    await settle(api.del(`/v1/clones/${c.id}`));
  }
}
