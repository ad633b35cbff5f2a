import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { activityArnOf, lambdaFunctionName } from './arns';
import { InvalidDefinitionError } from './errors';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

export type TaskTarget =
  | { kind: 'lambda'; functionName: string }
  | { kind: 'lambdaInvoke' }
  | { kind: 'activity'; activityArn: string };

export interface TaskSpec {
  stateName: string;
  resource: string;
  target: TaskTarget;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
}

export interface ParsedDefinition {
  definition: StateMachineDefinition;
  /** Every Task state of the machine, nested Map and Parallel states included, by state name. */
  tasks: Map<string, TaskSpec>;
}

type StateBlock = { States?: Record<string, Record<string, unknown>> };

/** Parses and validates an ASL text; anything the local runner cannot execute is an InvalidDefinition. */
export function parseDefinition(text: string): ParsedDefinition {
  let definition: StateMachineDefinition;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new InvalidDefinitionError('the definition is not valid JSON', { cause: error });
  }
  if (!definition || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new InvalidDefinitionError('the definition must be a JSON object with StartAt and States');
  }
  try {
    new StateMachine(definition);
  } catch (error) {
    throw new InvalidDefinitionError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const tasks = new Map<string, TaskSpec>();
  collectTasks(definition as unknown as StateBlock, new Set(), tasks);
  return { definition, tasks };
}

function collectTasks(block: StateBlock, seen: Set<string>, tasks: Map<string, TaskSpec>): void {
  for (const [name, state] of Object.entries(block.States ?? {})) {
    // Task handlers are looked up by state name, so names must be unique across nesting levels (as on AWS).
    if (seen.has(name)) throw new InvalidDefinitionError(`state name "${name}" is used more than once`);
    seen.add(name);
    if (state.Type === 'Task') tasks.set(name, taskSpec(name, state));
    if (state.Type === 'Map') collectTasks((state.ItemProcessor ?? state.Iterator) as StateBlock, seen, tasks);
    if (state.Type === 'Parallel') {
      for (const branch of (state.Branches ?? []) as StateBlock[]) collectTasks(branch, seen, tasks);
    }
  }
}

function taskSpec(stateName: string, state: Record<string, unknown>): TaskSpec {
  const resource = String(state.Resource);
  if ('HeartbeatSecondsPath' in state) {
    throw new InvalidDefinitionError(
      `state "${stateName}": HeartbeatSecondsPath is not supported locally; use HeartbeatSeconds`,
    );
  }
  return {
    stateName,
    resource,
    target: taskTarget(stateName, resource),
    heartbeatSeconds: typeof state.HeartbeatSeconds === 'number' ? state.HeartbeatSeconds : undefined,
    timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined,
    timeoutSecondsPath: typeof state.TimeoutSecondsPath === 'string' ? state.TimeoutSecondsPath : undefined,
  };
}

function taskTarget(stateName: string, resource: string): TaskTarget {
  if (resource === LAMBDA_INVOKE) return { kind: 'lambdaInvoke' };
  const activityArn = activityArnOf(resource);
  if (activityArn) return { kind: 'activity', activityArn };
  const functionName = resource.includes(':lambda:') ? lambdaFunctionName(resource) : undefined;
  if (functionName) return { kind: 'lambda', functionName };
  throw new InvalidDefinitionError(
    `state "${stateName}": resource "${resource}" is not supported locally; use a Lambda function ARN, ` +
      `${LAMBDA_INVOKE} or an activity ARN`,
  );
}
