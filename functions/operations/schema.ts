/** What `GET /v1/operations/{id}` takes and answers: the OpenAPI document is made from these. */
import { z } from 'zod';
import { operationTiming } from '../../statemachines/timing';
import { MAX_WAIT_SECONDS } from './wait';

const waitRange = `is a whole number of seconds from 1 to ${MAX_WAIT_SECONDS}`;

export const operationQuery = z.object({
  wait: z.coerce
    .number(waitRange)
    .int(waitRange)
    .min(1, waitRange)
    .max(MAX_WAIT_SECONDS, waitRange)
    .optional()
    .meta({
      description: `Answer once the operation has ended, or after this many seconds (1 to ${MAX_WAIT_SECONDS}) with it still running, instead of at once: follow an operation without polling.`,
    }),
});

const step = z.object({
  name: z.string(),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  message: z.string().optional(),
});

export const operationView = z.object({
  id: z.string(),
  kind: z.string(),
  resource: z.object({ kind: z.string(), id: z.string(), name: z.string() }),
  site: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'aborted']),
  progress: z.number().min(0).max(1),
  steps: z.array(step),
  request: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.string(), message: z.string(), reason: z.string().optional() }).optional(),
  timing: operationTiming.optional().meta({
    description:
      'Where the time went, as ISO timestamps: acceptedAt (request accepted), startedAt (workflow execution started), handedOutAt (agent got the task; agent clock), agentDoneAt (agent sent its outcome; agent clock), commitStartedAt (bookkeeping step began), committedAt (the ending transaction was written), visibleAt (a ?wait= read answered with the end). Stamps a step did not have are absent.',
  }),
  actor: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** An operation record that ended (what the local stack tells the functions of, operations/wait.ts). */
export const endedOperation = operationView
  .extend({ status: z.enum(['succeeded', 'failed', 'aborted']), rev: z.number().int(), executionArn: z.string() })
  // Kept whole: a waiting read answers with it as it would with the record it read.
  .loose();
