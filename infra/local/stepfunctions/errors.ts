/** Base of every error raised by the local Step Functions endpoint. */
export class StepFunctionsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error answered to API callers as HTTP 400 with `{"__type": awsType, "message": ...}`, as AWS does. */
export class StepFunctionsApiError extends StepFunctionsError {
  /** The AWS error code clients match on (e.g. `ExecutionDoesNotExist`). */
  readonly awsType: string;
  constructor(awsType: string, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.awsType = awsType;
  }
}

export class UnknownOperationError extends StepFunctionsApiError {
  constructor(readonly operation: string) {
    super(
      'UnknownOperationException',
      'unknown_operation',
      `Unknown operation "${operation}": send X-Amz-Target AWSStepFunctions.<Operation> with a supported operation.`,
    );
  }
}

export class MalformedRequestError extends StepFunctionsApiError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(
      'SerializationException',
      'malformed_request',
      `Request body is not usable (${reason}): send a JSON object with content-type application/x-amz-json-1.0.`,
      options,
    );
  }
}

export class ParameterValidationError extends StepFunctionsApiError {
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(
      'ValidationException',
      'invalid_parameter',
      `Parameter "${parameter}" ${problem}: fix the request and retry.`,
    );
  }
}

export class InvalidPaginationTokenError extends StepFunctionsApiError {
  constructor(readonly nextToken: string) {
    super(
      'InvalidToken',
      'invalid_next_token',
      'Invalid nextToken: pass the nextToken of the previous page unchanged.',
    );
  }
}

export class InvalidArnError extends StepFunctionsApiError {
  constructor(
    readonly arn: string,
    expected: string,
  ) {
    super('InvalidArn', 'invalid_arn', `Invalid ARN "${arn}": expected ${expected}.`);
  }
}

export class InvalidNameError extends StepFunctionsApiError {
  constructor(readonly resourceName: string) {
    super(
      'InvalidName',
      'invalid_name',
      `Invalid name "${resourceName}": use 1-80 characters without whitespace, brackets, wildcards or special characters.`,
    );
  }
}

export class InvalidDefinitionError extends StepFunctionsApiError {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('InvalidDefinition', 'invalid_definition', `Invalid State Machine Definition: ${reason}`, options);
  }
}

export class InvalidExecutionInputError extends StepFunctionsApiError {
  constructor(options?: { cause?: unknown }) {
    super(
      'InvalidExecutionInput',
      'invalid_execution_input',
      'Execution input is not valid JSON: send a JSON text.',
      options,
    );
  }
}

export class InvalidOutputError extends StepFunctionsApiError {
  constructor(options?: { cause?: unknown }) {
    super('InvalidOutput', 'invalid_output', 'Task output is not valid JSON: send a JSON text as output.', options);
  }
}

export class MissingRequiredParameterError extends StepFunctionsApiError {
  constructor(readonly parameters: string[]) {
    super(
      'MissingRequiredParameter',
      'missing_required_parameter',
      `Provide at least one of: ${parameters.join(', ')}.`,
    );
  }
}

export class StateMachineAlreadyExistsError extends StepFunctionsApiError {
  constructor(readonly arn: string) {
    super(
      'StateMachineAlreadyExists',
      'state_machine_exists',
      `State Machine Already Exists: '${arn}' has a different definition; use UpdateStateMachine or another name.`,
    );
  }
}

export class StateMachineDoesNotExistError extends StepFunctionsApiError {
  constructor(readonly arn: string) {
    super(
      'StateMachineDoesNotExist',
      'state_machine_missing',
      `State Machine Does Not Exist: '${arn}'; create it first (the local endpoint forgets machines on restart).`,
    );
  }
}

export class ExecutionAlreadyExistsError extends StepFunctionsApiError {
  constructor(readonly arn: string) {
    super(
      'ExecutionAlreadyExists',
      'execution_exists',
      `Execution Already Exists: '${arn}' is closed or has a different input; start it under another name.`,
    );
  }
}

export class ExecutionDoesNotExistError extends StepFunctionsApiError {
  constructor(readonly arn: string) {
    super(
      'ExecutionDoesNotExist',
      'execution_missing',
      `Execution Does Not Exist: '${arn}'; executions live in memory and are forgotten when the endpoint restarts.`,
    );
  }
}

export class ActivityDoesNotExistError extends StepFunctionsApiError {
  constructor(readonly arn: string) {
    super('ActivityDoesNotExist', 'activity_missing', `Activity Does Not Exist: '${arn}'; call CreateActivity first.`);
  }
}

export class TaskDoesNotExistError extends StepFunctionsApiError {
  constructor(readonly taskToken: string) {
    super(
      'TaskDoesNotExist',
      'task_missing',
      'Task Does Not Exist: the token was never issued by this endpoint; use a token from GetActivityTask.',
    );
  }
}

export class TaskTimedOutError extends StepFunctionsApiError {
  constructor(readonly taskToken: string) {
    super(
      'TaskTimedOut',
      'task_closed',
      'Task Timed Out: the task already finished, timed out or its execution stopped; drop the work and poll again.',
    );
  }
}

/**
 * A task failure handed to the state machine runner. `name` is the States error name that Retry/Catch match
 * and `message` is the Cause, verbatim. The runner reports an Error's `cause` property as the States Cause,
 * so the thrown value behind the failure is kept in `original` instead of being chained.
 */
export class StateTaskError extends Error {
  readonly code = 'task_failed';
  constructor(
    errorName: string,
    stateCause: string,
    readonly original?: unknown,
  ) {
    super(stateCause);
    this.name = errorName;
  }
}

/**
 * Settles the pending task of an execution that already ended (stopped, timed out, failed elsewhere), so the
 * runner's own task timer is released. Neither retryable nor catchable: the runner reads these two flags.
 */
export class ExecutionClosedError extends StateTaskError {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(readonly executionArn: string) {
    super('States.Runtime', `Execution ${executionArn} is no longer running; its tasks are dropped`);
  }
}

export class EndpointStartError extends StepFunctionsError {
  constructor(
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super('listen_failed', `Cannot listen on ${host}:${port}: choose a free port, or 0 to pick one.`, options);
  }
}
