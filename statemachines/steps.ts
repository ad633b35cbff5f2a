/**
 * The bookkeeping steps every workflow ends with: `commit` hands the functions the agent's outcome,
 * `fail` the Step Functions error (`{Error, Cause}`) that stopped the workflow. generate.ts writes
 * the states that send these; the functions check them against this schema.
 */
import { z } from 'zod';
import { bundleLocation } from './tasks';
import { workflowTiming } from './timing';

export const stepError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });

/** The phases of a scenario: deploy (roll out), rollback, delete (finalize), and a service update's prepare and approve. */
const deploymentMode = z.enum(['deploy', 'rollback', 'delete', 'prepare', 'approve']);

export const stepInput = z.discriminatedUnion('step', [
  /** Moves one member of a deployment on; answers `{done}`. */
  z.object({
    step: z.literal('member'),
    deployment: z.string().min(1),
    index: z.number().int().min(0),
    mode: deploymentMode,
  }),
  /** Ends a deployment's phase; answers `{rollback}` when the members that succeeded are to be undone first. */
  z.object({
    step: z.literal('finish'),
    operation: z.string().min(1),
    deployment: z.string().min(1),
    mode: deploymentMode,
  }),
  /**
   * Plans an import from its verified bundle (the `bundle_verify` outcome); answers `{copy}`, the
   * `bundle_copy` input, or `{ended}` when the plan ended the operation (a dry run, a refusal, nothing to copy).
   */
  z.object({
    step: z.literal('transfer_plan'),
    operation: z.string().min(1),
    bundle: bundleLocation,
    outcome: z.unknown(),
  }),
  /** `outcome` is the activity's output: the task's outcome, with the agent's stamps beside it (timing.ts). */
  z.object({
    step: z.literal('commit'),
    operation: z.string().min(1),
    outcome: z.unknown().optional(),
    timing: workflowTiming.optional(),
  }),
  /**
   * Ends an operation whose commit switched its records over (a task with a release, tasks.ts
   * releaseTasks) once the agent removed what they replaced: `released` is the release's outcome, or its error.
   */
  z.object({
    step: z.literal('released'),
    operation: z.string().min(1),
    released: z.union([stepError.extend({ Error: z.string() }), z.looseObject({})]),
  }),
  z.object({
    step: z.literal('fail'),
    operation: z.string().min(1),
    error: stepError.optional(),
    /** What undoing the agent's change did, when the workflow undid one: its error, or its outcome. */
    undo: z.union([stepError.extend({ Error: z.string() }), z.looseObject({})]).optional(),
    timing: workflowTiming.optional(),
  }),
]);

export type StepInput = z.infer<typeof stepInput>;
export type DeploymentMode = z.infer<typeof deploymentMode>;
export type StepError = z.infer<typeof stepError>;
export type StepUndo = NonNullable<Extract<StepInput, { step: 'fail' }>['undo']>;
export type StepRelease = Extract<StepInput, { step: 'released' }>['released'];
