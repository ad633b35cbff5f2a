/**
 * After a restart (or on a schedule in AWS), operations whose workflow is no longer running are
 * ended as failed, releasing what they held. Nothing is left "running" forever.
 */
import type { Deps } from '../deps';
import { recordFailure } from '../operations/end';

const START_GRACE_MS = 15_000;

/** `afterRestart`: the workflow endpoint was just started, so no execution can be merely starting. */
export async function reconcile(deps: Deps, afterRestart = false) {
  const ended: string[] = [];
  for (const op of await deps.operations.running()) {
    const status = await deps.workflows.status(op.executionArn);
    if (status === 'RUNNING') continue;
    // An operation is written just before its workflow starts: give that moment time to pass.
    if (status === 'missing' && !afterRestart && Date.now() - Date.parse(op.createdAt) < START_GRACE_MS) continue;
    // A missing workflow was forgotten by a restart of the workflow endpoint (locally: of the stack).
    const cause =
      status === 'missing'
        ? {
            message:
              'the control plane restarted while this operation ran, and its workflow is gone; retry the request',
            reason: 'control_plane_restarted',
          }
        : { message: `its workflow ended (${status}) without recording an outcome; retry the request` };
    await recordFailure(deps, op.id, {
      Error: 'interrupted',
      Cause: JSON.stringify({ code: 'interrupted', ...cause }),
    });
    ended.push(op.id);
  }
  return { ended };
}
