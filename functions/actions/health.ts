/** `GET /v1/health`: can the functions reach their parts, and are the sites' agents alive? */
import type { Deps } from '../deps';

/** An agent reports every few seconds; silence longer than this means it is down. */
export const AGENT_SILENCE_MS = 30_000;

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
  let agents: Record<string, string> | string = {};
  if (dynamodb === 'ok') {
    const now = Date.now();
    agents = Object.fromEntries(
      (await deps.sites.listAll()).map((s) => {
        const seen = s.agent ? Date.parse(s.agent.lastSeen) : 0;
        return [
          s.name,
          !s.agent ? 'never seen' : now - seen <= AGENT_SILENCE_MS ? 'ok' : `silent since ${s.agent.lastSeen}`,
        ];
      }),
    );
  } else agents = 'unknown: dynamodb unreachable';
  const agentsOk = typeof agents === 'object' && Object.values(agents).every((v) => v === 'ok');
  const ok = dynamodb === 'ok' && s3 === 'ok' && stepfunctions === 'ok' && agentsOk;
  return {
    status: ok ? 'ok' : 'degraded',
    components: { dynamodb, s3, stepfunctions, agents: agentsOk ? 'ok' : agents },
    sites: agents,
  };
}
