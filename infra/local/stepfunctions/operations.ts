import type { ActivityRecord, ActivityRegistry } from './activities';
import { InvalidOutputError, ParameterValidationError } from './errors';
import type { ExecutionRecord, ExecutionStore } from './executions';
import { epochSeconds, optionalString, page, type RequestBody, requiredString } from './request';
import type { StateMachineRecord, StateMachineRegistry } from './statemachines';
import type { ActivityTaskBroker } from './task-broker';

export interface Services {
  machines: StateMachineRegistry;
  executions: ExecutionStore;
  activities: ActivityRegistry;
  broker: ActivityTaskBroker;
  /** How long GetActivityTask waits for a task before answering `{}` (AWS: 60 s). */
  longPollMs: number;
}

/** One AWS Step Functions operation; `signal` aborts when the client disconnects. */
export type Operation = (body: RequestBody, signal: AbortSignal) => unknown;

const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

export function buildOperations(services: Services): Record<string, Operation> {
  const { machines, executions, activities, broker } = services;
  return {
    CreateStateMachine: (body) => {
      const machine = machines.create({
        name: requiredString(body, 'name'),
        definition: requiredString(body, 'definition'),
        roleArn: optionalString(body, 'roleArn'),
        type: optionalString(body, 'type'),
      });
      return { stateMachineArn: machine.arn, creationDate: epochSeconds(machine.creationDate) };
    },
    UpdateStateMachine: (body) => {
      const machine = machines.update(
        requiredString(body, 'stateMachineArn'),
        optionalString(body, 'definition'),
        optionalString(body, 'roleArn'),
      );
      return { updateDate: epochSeconds(machine.updateDate) };
    },
    DescribeStateMachine: (body) => describeMachine(machines.get(requiredString(body, 'stateMachineArn'))),
    DescribeStateMachineForExecution: (body) => {
      const { machine } = executions.get(requiredString(body, 'executionArn'));
      return { ...describeMachine(machine), updateDate: epochSeconds(machine.updateDate ?? machine.creationDate) };
    },
    ListStateMachines: (body) =>
      page(machines.list(), body, 'stateMachines', (m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: m.type,
        creationDate: epochSeconds(m.creationDate),
      })),
    DeleteStateMachine: (body) => {
      machines.delete(requiredString(body, 'stateMachineArn'));
      return {};
    },
    StartExecution: (body) => {
      const machine = machines.get(requiredString(body, 'stateMachineArn'));
      const execution = executions.start(machine, optionalString(body, 'name'), optionalString(body, 'input'));
      return { executionArn: execution.arn, startDate: epochSeconds(execution.startDate) };
    },
    DescribeExecution: (body) => describeExecution(executions.get(requiredString(body, 'executionArn'))),
    ListExecutions: (body) => {
      const machine = machines.get(requiredString(body, 'stateMachineArn'));
      const statusFilter = optionalString(body, 'statusFilter');
      if (statusFilter !== undefined && !EXECUTION_STATUSES.includes(statusFilter)) {
        throw new ParameterValidationError('statusFilter', `must be one of ${EXECUTION_STATUSES.join(', ')}`);
      }
      return page(executions.list(machine.arn, statusFilter), body, 'executions', (e) => ({
        executionArn: e.arn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: epochSeconds(e.startDate),
        stopDate: epochSeconds(e.stopDate),
      }));
    },
    StopExecution: (body) => {
      const stopDate = executions.stop(
        requiredString(body, 'executionArn'),
        optionalString(body, 'error'),
        optionalString(body, 'cause'),
      );
      return { stopDate: epochSeconds(stopDate) };
    },
    GetExecutionHistory: (body) => {
      const events = executions.get(requiredString(body, 'executionArn')).history.all();
      if (body.reverseOrder === true) events.reverse();
      return page(events, body, 'events', (event) => event);
    },
    CreateActivity: (body) => describeActivity(activities.create(requiredString(body, 'name'))),
    DescribeActivity: (body) => describeActivity(activities.get(requiredString(body, 'activityArn'))),
    ListActivities: (body) => page(activities.list(), body, 'activities', describeActivity),
    DeleteActivity: (body) => {
      activities.delete(requiredString(body, 'activityArn'));
      return {};
    },
    GetActivityTask: async (body, signal) => {
      const activity = activities.get(requiredString(body, 'activityArn'));
      const task = await broker.poll(activity.arn, optionalString(body, 'workerName'), services.longPollMs, signal);
      return task ?? {};
    },
    SendTaskSuccess: (body) => {
      const taskToken = requiredString(body, 'taskToken');
      let output: unknown;
      try {
        output = JSON.parse(requiredString(body, 'output'));
      } catch (error) {
        if (error instanceof ParameterValidationError) throw error;
        throw new InvalidOutputError({ cause: error });
      }
      broker.succeed(taskToken, output);
      return {};
    },
    SendTaskFailure: (body) => {
      broker.fail(requiredString(body, 'taskToken'), optionalString(body, 'error'), optionalString(body, 'cause'));
      return {};
    },
    SendTaskHeartbeat: (body) => {
      broker.heartbeat(requiredString(body, 'taskToken'));
      return {};
    },
  };
}

function describeMachine(machine: StateMachineRecord): RequestBody {
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definitionText,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: epochSeconds(machine.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

function describeExecution(execution: ExecutionRecord): RequestBody {
  return {
    executionArn: execution.arn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    stopDate: epochSeconds(execution.stopDate),
    input: execution.input,
    inputDetails: { included: true },
    output: execution.output,
    outputDetails: execution.output === undefined ? undefined : { included: true },
    error: execution.error,
    cause: execution.cause,
    redriveCount: 0,
  };
}

function describeActivity(activity: ActivityRecord): RequestBody {
  return { activityArn: activity.arn, name: activity.name, creationDate: epochSeconds(activity.creationDate) };
}
