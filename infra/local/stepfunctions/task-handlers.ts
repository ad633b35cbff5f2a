import type { RunOptions } from 'aws-local-stepfunctions';
import { lambdaFunctionName } from './arns';
import type { TaskSpec } from './definition';
import { ExecutionClosedError, StateTaskError } from './errors';
import { jsonText } from './history';
import type { ActivityTaskBroker } from './task-broker';

export type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<TaskHandlers[string]>[0];

/** The runner's task timeout when a Task state sets neither TimeoutSeconds nor TimeoutSecondsPath. */
const RUNNER_DEFAULT_TIMEOUT_SECONDS = 60;
const NOT_TRUNCATED = { truncated: false };

export interface TaskRunContext {
  executionArn: string;
  isRunning(): boolean;
  broker: ActivityTaskBroker;
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  record(type: string, details?: Record<string, unknown>): void;
}

/** One local handler per Task state of the machine, so the runner never calls AWS itself. */
export function buildTaskHandlers(tasks: Map<string, TaskSpec>, context: TaskRunContext): TaskHandlers {
  const handlers: TaskHandlers = {};
  for (const spec of tasks.values()) handlers[spec.stateName] = (input) => runTask(spec, input, context);
  return handlers;
}

async function runTask(spec: TaskSpec, input: JsonValue, context: TaskRunContext): Promise<JsonValue> {
  const invokedAt = Date.now();
  // The runner calls this in the same tick it reports StateEntered; yielding once lets that event reach the
  // history before this task records its own events.
  await new Promise((resolve) => setImmediate(resolve));
  // A stopped execution must not start work; settling at once lets the runner release its task timer.
  if (!context.isRunning()) throw new ExecutionClosedError(context.executionArn);
  const { target } = spec;
  if (target.kind === 'activity') {
    const output = await context.broker.schedule({
      activityArn: target.activityArn,
      executionArn: context.executionArn,
      input,
      heartbeatSeconds: spec.heartbeatSeconds,
      timeoutSeconds: timeoutSecondsOf(spec, input),
      invokedAt,
    });
    return output as JsonValue;
  }
  if (target.kind === 'lambda') return invokeLambda(spec, target.functionName, input, context);
  const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: unknown; Payload?: JsonValue };
  const functionName = typeof FunctionName === 'string' ? lambdaFunctionName(FunctionName) : undefined;
  if (!functionName) {
    throw new StateTaskError(
      'States.Runtime',
      `State "${spec.stateName}": lambda:invoke needs Parameters.FunctionName`,
    );
  }
  const result = await invokeLambda(spec, functionName, Payload ?? {}, context);
  return { Payload: result, StatusCode: 200 };
}

async function invokeLambda(
  spec: TaskSpec,
  functionName: string,
  payload: JsonValue,
  context: TaskRunContext,
): Promise<JsonValue> {
  context.record('LambdaFunctionScheduled', {
    resource: spec.resource,
    input: jsonText(payload),
    inputDetails: NOT_TRUNCATED,
    timeoutInSeconds: spec.timeoutSeconds,
  });
  context.record('LambdaFunctionStarted');
  let result: JsonValue;
  try {
    result = JSON.parse(jsonText(await context.invokeFunction(functionName, payload)));
  } catch (error) {
    const failure = asTaskError(error);
    context.record('LambdaFunctionFailed', { error: failure.name, cause: failure.message });
    throw failure;
  }
  context.record('LambdaFunctionSucceeded', { output: jsonText(result), outputDetails: NOT_TRUNCATED });
  return result;
}

/** Like Lambda's errorType/errorMessage: the thrown error's name is the States error, its message the Cause. */
function asTaskError(error: unknown): StateTaskError {
  if (error instanceof Error) return new StateTaskError(error.name, error.message, error);
  return new StateTaskError('Error', String(error), error);
}

function timeoutSecondsOf(spec: TaskSpec, input: JsonValue): number {
  if (spec.timeoutSeconds) return spec.timeoutSeconds;
  const fromPath = spec.timeoutSecondsPath ? valueAtSimplePath(spec.timeoutSecondsPath, input) : undefined;
  return typeof fromPath === 'number' && fromPath >= 1 ? fromPath : RUNNER_DEFAULT_TIMEOUT_SECONDS;
}

/** Resolves `$.a.b` paths only; anything fancier falls back to the runner default (the runner still enforces it). */
function valueAtSimplePath(path: string, input: unknown): unknown {
  if (!/^\$(\.[A-Za-z_][\w-]*)*$/.test(path)) return undefined;
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
      input,
    );
}
