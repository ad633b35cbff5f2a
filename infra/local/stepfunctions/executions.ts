import './polyfill';
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { type ArnScope, requireStatesArn, requireValidName, statesArn } from './arns';
import { ExecutionAlreadyExistsError, ExecutionDoesNotExistError, InvalidExecutionInputError } from './errors';
import { ExecutionHistory, jsonText } from './history';
import type { StateMachineRecord } from './statemachines';
import type { ActivityTaskBroker } from './task-broker';
import { buildTaskHandlers } from './task-handlers';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Outcome {
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionRecord extends Outcome {
  arn: string;
  name: string;
  stateMachineArn: string;
  /** The machine as it was when the execution started (later updates do not affect it). */
  machine: StateMachineRecord;
  input: string;
  startDate: Date;
  stopDate?: Date;
  history: ExecutionHistory;
  abort(): void;
}

export interface ExecutionStoreDeps {
  scope: ArnScope;
  broker: ActivityTaskBroker;
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  log: (line: string) => void;
}

/**
 * Executions run by aws-local-stepfunctions, kept in memory only: after an endpoint restart every
 * execution is forgotten and DescribeExecution answers ExecutionDoesNotExist.
 */
export class ExecutionStore {
  private readonly executions = new Map<string, ExecutionRecord>();

  constructor(private readonly deps: ExecutionStoreDeps) {}

  /** Same name and input as a running execution returns it; a closed one or another input is refused (as on AWS). */
  start(machine: StateMachineRecord, name: string | undefined, input: string | undefined): ExecutionRecord {
    const executionName = requireValidName(name ?? randomUUID());
    const inputText = input ?? '{}';
    let inputValue: unknown;
    try {
      inputValue = JSON.parse(inputText);
    } catch (error) {
      throw new InvalidExecutionInputError({ cause: error });
    }
    const arn = statesArn(this.deps.scope, 'execution', machine.name, executionName);
    const existing = this.executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new ExecutionAlreadyExistsError(arn);
    }
    const record: ExecutionRecord = {
      arn,
      name: executionName,
      stateMachineArn: machine.arn,
      machine,
      status: 'RUNNING',
      input: inputText,
      startDate: new Date(),
      history: new ExecutionHistory(),
      abort: () => {},
    };
    this.executions.set(arn, record);
    this.run(record, inputValue);
    this.deps.log(`stepfunctions: execution ${arn} started`);
    return record;
  }

  get(arn: string): ExecutionRecord {
    const record = this.executions.get(requireStatesArn(arn, 'execution'));
    if (!record) throw new ExecutionDoesNotExistError(arn);
    return record;
  }

  /** Adds a task event to the history of a running execution; a stopped one no longer records late task results. */
  recordTaskEvent(arn: string, type: string, details?: Record<string, unknown>): void {
    const record = this.executions.get(arn);
    if (record?.status === 'RUNNING') record.history.add(type, details);
  }

  /** Most recent first, as AWS lists them. */
  list(stateMachineArn: string, statusFilter?: string): ExecutionRecord[] {
    return [...this.executions.values()]
      .filter((e) => e.stateMachineArn === stateMachineArn && (!statusFilter || e.status === statusFilter))
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  /** Aborts a running execution and drops its parked activity tasks; stopping a closed execution changes nothing. */
  stop(arn: string, error?: string, cause?: string): Date {
    const record = this.get(arn);
    if (record.status === 'RUNNING') {
      Object.assign(record, { status: 'ABORTED', error, cause, stopDate: new Date() });
      this.deps.broker.dropExecution(arn);
      record.abort();
    }
    return record.stopDate ?? new Date();
  }

  stopAll(): void {
    for (const record of this.executions.values()) if (record.status === 'RUNNING') this.stop(record.arn);
  }

  private run(record: ExecutionRecord, input: unknown): void {
    const { machine } = record;
    // Validated by CreateStateMachine already; skipping it here also skips it for every Map iteration.
    const runner = new StateMachine(machine.parsed.definition, { validationOptions: { noValidate: true } });
    const handlers = buildTaskHandlers(machine.parsed.tasks, {
      executionArn: record.arn,
      isRunning: () => record.status === 'RUNNING',
      broker: this.deps.broker,
      invokeFunction: this.deps.invokeFunction,
      record: (type, details) => this.recordTaskEvent(record.arn, type, details),
    });
    record.history.add('ExecutionStarted', {
      input: record.input,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
    });
    const run = runner.run(input as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: {
          Id: record.arn,
          Name: record.name,
          RoleArn: machine.roleArn,
          StartTime: record.startDate.toISOString(),
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    record.abort = run.abort;
    const outcome = run.result.then(
      (output): Outcome => ({ status: 'SUCCEEDED', output: jsonText(output) }),
      failureOutcome,
    );
    const drained = (async () => {
      for await (const event of run.eventLogs) record.history.addLibraryEvent(event);
    })().catch((error) => this.deps.log(`stepfunctions: history of ${record.arn} is incomplete: ${String(error)}`));
    // The runner closes its event log right after the execution ends; waiting for it keeps the terminal
    // history event last.
    void Promise.all([outcome, drained]).then(([result]) => this.finish(record, result));
  }

  private finish(record: ExecutionRecord, outcome: Outcome): void {
    if (record.status === 'RUNNING') Object.assign(record, outcome, { stopDate: new Date() });
    this.deps.broker.dropExecution(record.arn);
    const { error, cause } = record;
    const terminal: Record<ExecutionStatus, [string, Record<string, unknown>] | undefined> = {
      RUNNING: undefined,
      SUCCEEDED: ['ExecutionSucceeded', { output: record.output, outputDetails: { truncated: false } }],
      FAILED: ['ExecutionFailed', { error, cause }],
      TIMED_OUT: ['ExecutionTimedOut', { error, cause }],
      ABORTED: ['ExecutionAborted', { error, cause }],
    };
    const event = terminal[record.status];
    if (event) record.history.add(...event);
    this.deps.log(`stepfunctions: execution ${record.arn} ${record.status}${error ? ` (${error})` : ''}`);
  }
}

function failureOutcome(error: unknown): Outcome {
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (error instanceof ExecutionError && error.cause instanceof Error) {
    // SendTaskFailure may omit error and cause; AWS then reports none rather than empty strings.
    return { status: 'FAILED', error: error.cause.name || undefined, cause: error.cause.message || undefined };
  }
  return { status: 'FAILED', error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) };
}
