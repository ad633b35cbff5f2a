/** How the Step Functions error that stopped a workflow becomes the operation's user-facing error. */
import { HEARTBEAT_SECONDS } from '../../statemachines/constants';
import type { StepError } from '../../statemachines/steps';
import { agentsOf } from '../actions/agents';
import type { Deps } from '../deps';
import type { Operation, Site } from '../store/records';

/**
 * What cut an operation short, beside its code (`interrupted`, `agent_lost`): the agent stopped
 * answering and did not come back; it came back (restarted) without its task, or its task kept
 * bringing it down; or the control plane (the workflow endpoint) restarted and forgot the workflow.
 */
export const failureReasons = ['agent_lost', 'agent_restarted', 'control_plane_restarted'] as const;
export type FailureReason = (typeof failureReasons)[number];

export interface UserError {
  code: string;
  message: string;
  reason?: FailureReason;
}

/** What is known besides the error itself. */
export interface FailureContext {
  /** When the operation was accepted. */
  since?: string;
  /** When the site's agent last started, as it reported itself. */
  agentStartedAt?: string;
}

const isReason = (r: unknown): r is FailureReason => failureReasons.includes(r as FailureReason);

/** Turns a Step Functions error (an agent's failure, a timeout, a lost agent) into `{code, message, reason?}`. */
export function userError(e: StepError | undefined, site: string, ctx: FailureContext = {}): UserError {
  const name = e?.Error ?? 'unknown';
  if (name === 'States.HeartbeatTimeout') {
    const { since, agentStartedAt } = ctx;
    if (since && agentStartedAt && Date.parse(agentStartedAt) > Date.parse(since))
      return {
        code: 'agent_lost',
        reason: 'agent_restarted',
        message: `the edge agent of site "${site}" restarted (at ${agentStartedAt}) while this operation ran and did not pick its task up again (no heartbeat for ${HEARTBEAT_SECONDS} s); read the agent's log for why it restarted, then retry`,
      };
    return {
      code: 'agent_lost',
      reason: 'agent_lost',
      message: `the edge agent of site "${site}" stopped reporting (no heartbeat for ${HEARTBEAT_SECONDS} s) or is not running; start or check it, then retry`,
    };
  }
  if (name === 'States.Timeout')
    return {
      code: 'timeout',
      message: 'the task took longer than its time limit; retry, or check the agent and storage',
    };
  try {
    // The agent's causes are `{code, message, reason?}`; a failed Lambda step's are `{errorType, errorMessage}`.
    const parsed = JSON.parse(e?.Cause ?? '') as Partial<UserError> & { errorMessage?: string };
    if (parsed.message)
      return {
        code: parsed.code ?? name,
        message: parsed.message,
        ...(isReason(parsed.reason) ? { reason: parsed.reason } : {}),
      };
    if (parsed.errorMessage) return { code: name.replace(/^States\./, '').toLowerCase(), message: parsed.errorMessage };
  } catch {
    // A plain-text cause.
  }
  return { code: name.replace(/^States\./, '').toLowerCase(), message: e?.Cause || name };
}

/** When the agent that had the task last started: its host's, or the latest of the site's agents. */
function agentStartedAt(site: Site | undefined, host: string | undefined): string | undefined {
  const agents = site ? agentsOf(site).filter((a) => host === undefined || a.host === host) : [];
  return agents
    .map((a) => a.startedAt)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
}

/** The operation's error; for a lost agent, told apart from one that restarted by the site's agent record. */
export async function explainFailure(deps: Deps, op: Operation, e: StepError | undefined): Promise<UserError> {
  const ctx: FailureContext = { since: op.createdAt };
  if (e?.Error === 'States.HeartbeatTimeout')
    ctx.agentStartedAt = agentStartedAt(await deps.sites.find(op.site).catch(() => undefined), op.host);
  return userError(e, op.site, ctx);
}
