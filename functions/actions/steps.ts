/** The bookkeeping step the state machines call (the Lambda directly in AWS, an internal route locally). */
import { stepInput } from '../../statemachines/steps';
import type { Deps } from '../deps';
import { parseWith } from '../http/validate';
import { commit, recordFailure } from '../operations/end';

export async function runStep(deps: Deps, raw: unknown): Promise<{ operation: string; status: string }> {
  const input = parseWith(stepInput, raw, 'step');
  if (input.step === 'commit') return commit(deps, input.operation, input.outcome ?? {});
  return recordFailure(deps, input.operation, input.error, input.undo);
}
