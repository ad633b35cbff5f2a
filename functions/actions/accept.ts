/**
 * Accepting an asynchronous request: one transaction writes the operation, the audit entry and the
 * request's own reservations (a lock on the clone, a machine binding, a new record), then the
 * workflow starts. If the workflow cannot start, the failure step undoes the reservations, so a
 * request either runs or changes nothing.
 */

import type { PlannedTransition } from '../../statemachines/lifecycle';
import { executionArn, type Workflow } from '../../statemachines/names';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { Deps } from '../deps';
import { UnavailableError, WorkflowInputTooLargeError } from '../errors';
import { recordFailure } from '../operations/end';
import type { Write } from '../store/db';
import { utf8Bytes } from '../store/limits';
import type { Operation } from '../store/records';
import { laneFor } from './agents';

/** Step Functions takes 256 KiB of input per execution; the workflow adds the operation id and little else. */
export const MAX_WORKFLOW_INPUT_BYTES = 250 * 1024;

export interface Accepted {
  operation: string;
  status: 'running';
  links: { self: string };
}

export interface AcceptSpec {
  workflow: Workflow;
  kind: string;
  resource: Operation['resource'];
  site: string;
  request: Record<string, unknown>;
  /** A lifecycle event's transition, as planned now: the commit applies exactly this. */
  transition?: PlannedTransition;
  firstStep: string;
  /** Input of the workflow besides the operation id: `{event?, input}`. */
  input: Record<string, unknown>;
  /** A step of a scenario (a deployment's member): the scenario's operation and the actor it acts for. */
  parent?: Parent;
  /**
   * Work that needs no agent, done in this request instead of the workflow (which then never starts):
   * it ends the operation itself (a discovery's replay of the stored inventory).
   */
  inline?: (op: Operation) => Promise<void>;
  /** The operation's id, when it was handed out before (an upload answers with its import's). */
  id?: string;
}

export interface Parent {
  operation: string;
  actor: string;
  /** The deployment whose reservation of a machine the step may use. */
  deployment?: string;
}

/** Builds the operation; `writes(op)` returns the reservations to commit with it. */
export async function accept(
  deps: Deps,
  principal: Principal | undefined,
  spec: AcceptSpec,
  writes: (op: Operation) => Write[],
  transact: (all: Write[]) => Promise<void> = (all) => deps.db.transact(all),
): Promise<Accepted> {
  // Refused before anything is written: AWS would refuse StartExecution after the reservations.
  const inputBytes = utf8Bytes(JSON.stringify(spec.input));
  if (inputBytes > MAX_WORKFLOW_INPUT_BYTES) throw new WorkflowInputTooLargeError(inputBytes, MAX_WORKFLOW_INPUT_BYTES);
  // Routed before anything is written, so work no agent can reach is refused and changes nothing.
  const lane = spec.inline ? spec.site : await laneFor(deps, spec.site, spec.input);
  const host = lane === spec.site ? undefined : lane.slice(spec.site.length + 1);
  const now = deps.now();
  const actor = spec.parent?.actor ?? actorOf(principal);
  const created = deps.operations.create(
    {
      kind: spec.kind,
      resource: spec.resource,
      site: spec.site,
      actor,
      request: spec.request,
      ...(spec.transition ? { transition: spec.transition } : {}),
      ...(spec.parent ? { parent: spec.parent.operation } : {}),
      ...(host ? { host } : {}),
    },
    now,
    spec.firstStep,
    (id) => executionArn(deps.config, lane, spec.workflow, id),
    spec.id,
  );
  const op: Operation = { ...created, timing: { acceptedAt: now } };
  const audit = deps.audit.entry({
    at: now,
    actor,
    action: spec.kind,
    resource: spec.resource,
    outcome: 'accepted',
    operation: op.id,
  });
  await transact([...writes(op), deps.operations.newWrite(op), audit]);
  if (spec.inline) {
    await spec.inline(op).catch((e: Error) =>
      recordFailure(deps, op.id, {
        Error: 'internal',
        Cause: JSON.stringify({ code: 'internal', message: e.message }),
      }),
    );
    return { operation: op.id, status: 'running', links: { self: `/v1/operations/${op.id}` } };
  }
  try {
    await deps.workflows.start(lane, spec.workflow, op.id, spec.input);
  } catch (e) {
    const message = `the workflow could not start (${(e as Error).message}); check GET /v1/health and retry`;
    await recordFailure(deps, op.id, { Error: 'workflow_unavailable', Cause: message });
    throw new UnavailableError(message, { operation: op.id }, { cause: e });
  }
  return { operation: op.id, status: 'running', links: { self: `/v1/operations/${op.id}` } };
}
