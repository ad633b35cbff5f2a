/** `GET /v1/health`: can the functions reach their parts, and are the sites' agents alive? */
import type { Deps } from '../deps';
import { agentStatus, agentsOf } from './agents';

async function probe(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return `error: ${(e as Error).name}: ${(e as Error).message}`.slice(0, 300);
  }
}

export async function health(deps: Deps) {
  const [dynamodb, s3, stepfunctions] = await Promise.all([
    probe(() => deps.db.get({ pk: 'health', sk: 'probe' })),
    probe(() => deps.catalog.ping()),
    probe(() => deps.workflows.ping()),
  ]);
  // Per site: `ok` when every agent of it reports; per agent (by site, then host): its own status.
  let sites: Record<string, string> | string = {};
  let agents: Record<string, Record<string, string>> = {};
  if (dynamodb === 'ok') {
    const now = Date.now();
    const all = await deps.sites.listAll();
    agents = Object.fromEntries(
      all.map((s) => [s.name, Object.fromEntries(agentsOf(s).map((a) => [a.host, agentStatus(a, now)]))]),
    );
    sites = Object.fromEntries(
      all.map((s) => {
        const statuses = Object.entries(agents[s.name]!);
        const silent = statuses.filter(([, v]) => v !== 'ok');
        if (!statuses.length) return [s.name, 'never seen'];
        return [s.name, silent.length ? silent.map(([h, v]) => `${h}: ${v}`).join('; ') : 'ok'];
      }),
    );
  } else sites = 'unknown: dynamodb unreachable';
  const agentsOk = typeof sites === 'object' && Object.values(sites).every((v) => v === 'ok');
  const ok = dynamodb === 'ok' && s3 === 'ok' && stepfunctions === 'ok' && agentsOk;
  return {
    status: ok ? 'ok' : 'degraded',
    components: { dynamodb, s3, stepfunctions, agents: agentsOk ? 'ok' : sites },
    sites,
    agents,
  };
}
