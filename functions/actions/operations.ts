/** Reading operations, and the agent's progress reports on them. */
import { type Principal, requireAgentOf } from '../auth/principal';
import type { Deps } from '../deps';
import { NotFoundError } from '../errors';
import { untilEnded } from '../operations/wait';
import { enterStep } from '../store/operations';
import { awaitedImport } from './uploads';

/**
 * The operation; with `wait` (seconds), once it ended or when the time is up, whichever is first.
 * A waiting read that answers with the end says when (`timing.visibleAt`, statemachines/timing.ts).
 */
export async function getOperation(deps: Deps, id: string, wait?: number) {
  const deadline = Date.now() + (wait ?? 0) * 1000;
  const read = (await deps.operations.get(id)) ?? (await untilUploaded(deps, id, deadline));
  if (!('rev' in read)) return read;
  const left = (deadline - Date.now()) / 1000;
  const op = wait && left > 0 ? await untilEnded(deps.operations, deps.endings, read, left) : read;
  const { rev: _rev, ...view } = op;
  // A plain read stays the same each time: only a waiting read says when it saw the end.
  if (!wait || op.status === 'running' || !op.timing) return view;
  return { ...view, timing: { ...op.timing, visibleAt: deps.now() } };
}

/**
 * An operation an upload handed out and whose import has not started: its record once the import
 * starts before `deadline`, else how it stands (awaitedImport). No upload names it: not found.
 */
async function untilUploaded(deps: Deps, id: string, deadline: number) {
  for (let pause = 100; ; pause = Math.min(pause * 1.5, 500)) {
    const awaited = await awaitedImport(deps, id);
    if (!awaited) {
      const started = await deps.operations.get(id);
      if (started) return started;
      throw new NotFoundError('operation', id);
    }
    const left = deadline - Date.now();
    if (awaited.status !== 'running' || left <= 0) return awaited;
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    const started = await deps.operations.get(id);
    if (started) return started;
  }
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
