/** The bookkeeping step the state machines call (the Lambda directly in AWS, an internal route locally). */
import { stepInput } from '../../statemachines/steps';
import { splitAgentTiming } from '../../statemachines/timing';
import type { Deps } from '../deps';
import { parseWith } from '../http/validate';
import { commit, recordFailure, recordRelease, type Stamps } from '../operations/end';
import { advanceMember, finishDeployment } from '../scenarios/members';
import { planStep } from '../transfer/commit';

/** An agent task's outcome as its task made it (the same value less the agent's stamps). */
const withoutStamps = <T>(raw: T): T => splitAgentTiming(raw).outcome as T;

export async function runStep(deps: Deps, raw: unknown): Promise<Record<string, unknown>> {
  const commitStartedAt = deps.now();
  const input = parseWith(stepInput, raw, 'step');
  if (input.step === 'member') return advanceMember(deps, input.deployment, input.index, input.mode);
  if (input.step === 'finish') return finishDeployment(deps, input.operation, input.deployment, input.mode);
  if (input.step === 'transfer_plan')
    return planStep(deps, input.operation, input.bundle, withoutStamps(input.outcome));
  if (input.step === 'released') return recordRelease(deps, input.operation, withoutStamps(input.released));
  const stamps: Stamps = { ...input.timing, commitStartedAt };
  if (input.step === 'commit') {
    const { outcome, timing } = splitAgentTiming(input.outcome ?? {});
    const { steps, ...agent } = timing ?? {};
    return commit(deps, input.operation, outcome, { ...stamps, ...agent }, steps);
  }
  return recordFailure(deps, input.operation, input.error, withoutStamps(input.undo), stamps);
}
