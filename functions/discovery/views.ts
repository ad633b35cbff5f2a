/** Reading discoveries: the record, with its operation's progress and, once it ended, its diff. */
import type { Deps } from '../deps';
import { NotFoundError } from '../errors';

export async function discoveryView(deps: Deps, id: string) {
  const d = await deps.discoveries.get(id);
  if (!d) throw new NotFoundError('discovery', id);
  const op = await deps.operations.get(d.operation);
  return {
    ...d,
    ...(op ? { progress: op.progress, steps: op.steps } : {}),
    ...(op?.result ? { result: op.result } : {}),
    ...(op?.error ? { error: op.error } : {}),
  };
}

export async function listDiscoveries(deps: Deps, q: { limit?: number; cursor?: string }) {
  const page = await deps.discoveries.list(q);
  return { items: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) };
}
