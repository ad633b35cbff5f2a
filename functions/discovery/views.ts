/**
 * Reading discoveries: the record, with its operation's progress and, once it ended, its whole diff
 * (the operation's result keeps the first entries of each list; the diff in S3 has them all).
 */
import type { Deps } from '../deps';
import { NotFoundError } from '../errors';

export async function discoveryView(deps: Deps, id: string) {
  const d = await deps.discoveries.get(id);
  if (!d) throw new NotFoundError('discovery', id);
  const op = await deps.operations.get(d.operation);
  return {
    ...d,
    ...(op ? { progress: op.progress, steps: op.steps } : {}),
    ...(op?.result ? { result: await fullDiff(deps, op.result) } : {}),
    ...(op?.error ? { error: op.error } : {}),
  };
}

export async function listDiscoveries(deps: Deps, q: { limit?: number; cursor?: string }) {
  const page = await deps.discoveries.list(q);
  return { items: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

async function fullDiff(deps: Deps, result: Record<string, unknown>) {
  const key = typeof result.diff === 'string' ? result.diff : undefined;
  const whole = key ? await deps.catalog.getJson<Record<string, unknown>>(key) : undefined;
  return whole ? { ...whole, diff: key } : result;
}
