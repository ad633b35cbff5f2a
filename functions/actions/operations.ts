/** Reading operations, and the agent's progress reports on them. */
import { type Principal, requireAgentOf } from '../auth/principal';
import type { Deps } from '../deps';
import { NotFoundError } from '../errors';
import { untilEnded } from '../operations/wait';
import { enterStep } from '../store/operations';

/**
 * The operation; with `wait` (seconds), once it ended or when the time is up, whichever is first.
 * A waiting read that answers with the end says when (`timing.visibleAt`, statemachines/timing.ts).
 */
export async function getOperation(deps: Deps, id: string, wait?: number) {
  const read = await deps.operations.get(id);
  if (!read) throw new NotFoundError('operation', id);
  const op = wait ? await untilEnded(deps.operations, deps.endings, read, wait) : read;
  const { rev: _rev, ...view } = op;
  // A plain read stays the same each time: only a waiting read says when it saw the end.
  if (!wait || op.status === 'running' || !op.timing) return view;
  return { ...view, timing: { ...op.timing, visibleAt: deps.now() } };
}

/**
 * Progress from the agent running the operation. Best effort: a report that loses a race with
 * another write, or arrives after the end, is dropped rather than retried.
 */
export async function reportProgress(
  deps: Deps,
  p: Principal | undefined,
  id: string,
  body: { progress: number; step?: string; message?: string },
) {
  const op = await deps.operations.get(id);
  if (!op) throw new NotFoundError('operation', id);
  // Tokens name their site; older ones may name it by id, which only the site record knows.
  const site = p?.site === op.site ? { id: op.site, name: op.site } : await deps.sites.find(op.site);
  requireAgentOf(p, site ?? { id: op.site, name: op.site }, 'progress');
  if (op.status !== 'running') return { accepted: false, status: op.status };
  const now = deps.now();
  const steps = body.step ? enterStep(op, body.step, now, body.message) : op.steps;
  try {
    await deps.operations.save({
      ...op,
      progress: Math.max(op.progress, body.progress),
      steps,
      updatedAt: now,
      rev: op.rev + 1,
    });
  } catch {
    return { accepted: false, status: op.status };
  }
  return { accepted: true, status: op.status };
}
