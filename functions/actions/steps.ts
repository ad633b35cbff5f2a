/** The bookkeeping step the state machines call (the Lambda directly in AWS, an internal route locally). */
import { stepInput } from '../../statemachines/steps';
import type { Deps } from '../deps';
import { parseWith } from '../http/validate';
import { commit, recordFailure, recordRelease } from '../operations/end';
import { advanceMember, finishDeployment } from '../scenarios/members';
import { planStep } from '../transfer/commit';

export async function runStep(deps: Deps, raw: unknown): Promise<Record<string, unknown>> {
  const input = parseWith(stepInput, raw, 'step');
  if (input.step === 'member') return advanceMember(deps, input.deployment, input.index, input.mode);
  if (input.step === 'finish') return finishDeployment(deps, input.operation, input.deployment, input.mode);
  if (input.step === 'commit') return commit(deps, input.operation, input.outcome ?? {});
  if (input.step === 'transfer_plan') return planStep(deps, input.operation, input.bundle, input.outcome);
  if (input.step === 'released') return recordRelease(deps, input.operation, input.released);
  return recordFailure(deps, input.operation, input.error, input.undo);
}
