/**
 * Where an operation's time goes, stamped by the part that sees each moment (glossary of
 * `operation.timing`, all ISO 8601 timestamps with milliseconds):
 * - `acceptedAt`: the functions accepted the request (the operation and its reservations written).
 * - `startedAt`: Step Functions started the execution (`$$.Execution.StartTime`).
 * - `handedOutAt`: the agent received the task (its GetActivityTask answered).
 * - `agentDoneAt`: the agent had journaled its outcome and sent it (SendTaskSuccess or Failure).
 * - `commitStartedAt`: the bookkeeping step began in the functions.
 * - `committedAt`: the transaction that ended the operation (or switched its records) was written.
 * - `visibleAt`: only in the answer of a waiting read (`?wait=`), never stored: when the functions
 *   answered it with the operation ended, i.e. when the waiting client could see the end.
 * The agent's stamps come from its own clock: on premises it may differ from the cloud's by the
 * clocks' skew. An operation with no agent task (metadata only) has no `handedOutAt`/`agentDoneAt`.
 *
 * The agent's stamps travel beside the task's outcome, under `agentTiming` in the activity's output,
 * with the steps the task went through (its progress reports may still be on their way: the end does
 * not wait for them). The functions split them off before the outcome is checked against its task's
 * contract.
 */
import { z } from 'zod';

const at = z.iso.datetime();

/** A step the agent's task entered (`copy`, `verify`, …), as its progress reports name it. */
export const agentStep = z.strictObject({
  name: z.string().min(1).max(100),
  startedAt: at,
  message: z.string().max(500).optional(),
});
export type AgentStep = z.infer<typeof agentStep>;

export const agentTiming = z.strictObject({
  handedOutAt: at,
  agentDoneAt: at,
  steps: z.array(agentStep).max(50).optional(),
});
export type AgentTiming = z.infer<typeof agentTiming>;

/** What the workflow passes to its bookkeeping steps. */
export const workflowTiming = z.strictObject({ startedAt: at.optional() });

export const operationTiming = z.strictObject({
  acceptedAt: at,
  startedAt: at.optional(),
  handedOutAt: at.optional(),
  agentDoneAt: at.optional(),
  commitStartedAt: at.optional(),
  committedAt: at.optional(),
  visibleAt: at.optional(),
});
export type OperationTiming = z.infer<typeof operationTiming>;

/** The key of the agent's stamps in the activity output; no task's outcome has a field of that name. */
export const AGENT_TIMING_KEY = 'agentTiming';

/** The activity output the agent sends: the outcome, with its stamps beside it. */
export function withAgentTiming(outcome: unknown, timing: AgentTiming): unknown {
  if (!outcome || typeof outcome !== 'object' || Array.isArray(outcome)) return outcome;
  return { ...outcome, [AGENT_TIMING_KEY]: timing };
}

/** The outcome as its task made it, and the agent's stamps when they are there and well formed. */
export function splitAgentTiming(raw: unknown): { outcome: unknown; timing?: AgentTiming } {
  if (!raw || typeof raw !== 'object' || !(AGENT_TIMING_KEY in raw)) return { outcome: raw };
  const { [AGENT_TIMING_KEY]: stamps, ...outcome } = raw as Record<string, unknown>;
  const timing = agentTiming.safeParse(stamps);
  // Stamps are diagnostics: malformed ones are dropped, never a reason to refuse the outcome.
  return timing.success ? { outcome, timing: timing.data } : { outcome };
}
