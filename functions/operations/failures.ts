/** How the Step Functions error that stopped a workflow becomes the operation's user-facing error. */
import { HEARTBEAT_SECONDS } from '../../statemachines/constants';
import type { StepError } from '../../statemachines/steps';

export interface UserError {
  code: string;
  message: string;
}

/** Turns a Step Functions error (an agent's failure, a timeout, a lost agent) into `{code, message}`. */
export function userError(e: StepError | undefined, site: string): UserError {
  const name = e?.Error ?? 'unknown';
  if (name === 'States.HeartbeatTimeout')
    return {
      code: 'agent_lost',
      message: `the edge agent of site "${site}" stopped reporting (no heartbeat for ${HEARTBEAT_SECONDS} s) or is not running; start or check it, then retry`,
    };
  if (name === 'States.Timeout')
    return {
      code: 'timeout',
      message: 'the task took longer than its time limit; retry, or check the agent and storage',
    };
  try {
    // The agent's causes are `{code, message}`; a failed Lambda step's are `{errorType, errorMessage}`.
    const parsed = JSON.parse(e?.Cause ?? '') as Partial<UserError> & { errorMessage?: string };
    if (parsed.message) return { code: parsed.code ?? name, message: parsed.message };
    if (parsed.errorMessage) return { code: name.replace(/^States\./, '').toLowerCase(), message: parsed.errorMessage };
  } catch {
    // A plain-text cause.
  }
  return { code: name.replace(/^States\./, '').toLowerCase(), message: e?.Cause || name };
}
