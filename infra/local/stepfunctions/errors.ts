/**
 * Typed failures of the local Step Functions endpoint. Each carries a snake_case `code` and, in `details`,
 * the data a caller needs; an API error also carries the AWS error type that SDK clients match on.
 */
import { CodedError } from '../../../functions/errors';
import type { SignatureRefusedError } from '../sigv4';

/** Marks a failure of the local Step Functions endpoint; code, status, details and `cause` come from `CodedError`. */
export class StepFunctionsError extends CodedError {}

/** An error answered to API callers as HTTP 400 with `{"__type": awsType, "message": ...}`, as AWS does. */
export abstract class StepFunctionsApiError extends StepFunctionsError {
  override readonly status: number = 400;
  /** The AWS error code clients match on (e.g. `ExecutionDoesNotExist`). */
  abstract readonly awsType: string;
}

/**
 * A request refused before any operation ran: it is not signed with the endpoint's credentials. The type,
 * status, code and message are those of the shared SigV4 check's refusal (../sigv4.ts).
 */
export class RefusedRequestError extends StepFunctionsApiError {
  override readonly status: number;
  override readonly code: string;
  readonly awsType: string;
  constructor(refusal: SignatureRefusedError) {
    super(refusal.message, refusal.details);
    this.status = refusal.status;
    this.code = refusal.code;
    this.awsType = refusal.awsType;
  }
}

export class StartOptionsError extends StepFunctionsError {
  override readonly code = 'invalid_options';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`startStepFunctions option ${option} ${problem}.`, { option, problem });
  }
}

export class UnknownOperationError extends StepFunctionsApiError {
  readonly awsType = 'UnknownOperationException';
  override readonly code = 'unknown_operation';
  constructor(readonly operation: string) {
    super(
      `Unknown operation "${operation}": send X-Amz-Target AWSStepFunctions.<Operation> with a supported operation.`,
      { operation },
    );
  }
}

export class MalformedRequestError extends StepFunctionsApiError {
  readonly awsType = 'SerializationException';
  override readonly code = 'malformed_request';
  constructor(reason: string, options?: ErrorOptions) {
    super(
      `Request body is not usable (${reason}): send a JSON object with content-type application/x-amz-json-1.0.`,
      { reason },
      options,
    );
  }
}

export class ParameterValidationError extends StepFunctionsApiError {
  readonly awsType = 'ValidationException';
  override readonly code = 'invalid_parameter';
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(`Parameter "${parameter}" ${problem}: fix the request and retry.`, { parameter, problem });
  }
}

export class InvalidPaginationTokenError extends StepFunctionsApiError {
  readonly awsType = 'InvalidToken';
  override readonly code = 'invalid_next_token';
  constructor(readonly nextToken: string) {
    super('Invalid nextToken: pass the nextToken of the previous page unchanged.', { nextToken });
  }
}

export class InvalidArnError extends StepFunctionsApiError {
  readonly awsType = 'InvalidArn';
  override readonly code = 'invalid_arn';
  constructor(
    readonly arn: string,
    expected: string,
  ) {
    super(`Invalid ARN "${arn}": expected ${expected}.`, { arn, expected });
  }
}

export class InvalidNameError extends StepFunctionsApiError {
  readonly awsType = 'InvalidName';
  override readonly code = 'invalid_name';
  constructor(readonly resourceName: string) {
    super(
      `Invalid name "${resourceName}": use 1-80 characters without whitespace, brackets, wildcards or special characters.`,
      { resourceName },
    );
  }
}

export class InvalidDefinitionError extends StepFunctionsApiError {
  readonly awsType = 'InvalidDefinition';
  override readonly code = 'invalid_definition';
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`Invalid State Machine Definition: ${reason}`, { reason }, options);
  }
}

export class InvalidExecutionInputError extends StepFunctionsApiError {
  readonly awsType = 'InvalidExecutionInput';
  override readonly code = 'invalid_execution_input';
  constructor(options?: ErrorOptions) {
    super('Execution input is not valid JSON: send a JSON text.', {}, options);
  }
}

export class InvalidOutputError extends StepFunctionsApiError {
  readonly awsType = 'InvalidOutput';
  override readonly code = 'invalid_output';
  constructor(options?: ErrorOptions) {
    super('Task output is not valid JSON: send a JSON text as output.', {}, options);
  }
}

export class MissingRequiredParameterError extends StepFunctionsApiError {
  readonly awsType = 'MissingRequiredParameter';
  override readonly code = 'missing_required_parameter';
  constructor(readonly parameters: string[]) {
    super(`Provide at least one of: ${parameters.join(', ')}.`, { parameters });
  }
}

export class StateMachineAlreadyExistsError extends StepFunctionsApiError {
  readonly awsType = 'StateMachineAlreadyExists';
  override readonly code = 'state_machine_exists';
  constructor(readonly arn: string) {
    super(
      `State Machine Already Exists: '${arn}' has a different definition; use UpdateStateMachine or another name.`,
      { arn },
    );
  }
}

export class StateMachineDoesNotExistError extends StepFunctionsApiError {
  readonly awsType = 'StateMachineDoesNotExist';
  override readonly code = 'state_machine_missing';
  constructor(readonly arn: string) {
    super(`State Machine Does Not Exist: '${arn}'; create it first (the local endpoint forgets machines on restart).`, {
      arn,
    });
  }
}

export class ExecutionAlreadyExistsError extends StepFunctionsApiError {
  readonly awsType = 'ExecutionAlreadyExists';
  override readonly code = 'execution_exists';
  constructor(readonly arn: string) {
    super(`Execution Already Exists: '${arn}' is closed or has a different input; start it under another name.`, {
      arn,
    });
  }
}

export class ExecutionDoesNotExistError extends StepFunctionsApiError {
  readonly awsType = 'ExecutionDoesNotExist';
  override readonly code = 'execution_missing';
  constructor(readonly arn: string) {
    super(
      `Execution Does Not Exist: '${arn}'; executions live in memory and are forgotten when the endpoint restarts.`,
      { arn },
    );
  }
}

export class ActivityDoesNotExistError extends StepFunctionsApiError {
  readonly awsType = 'ActivityDoesNotExist';
  override readonly code = 'activity_missing';
  constructor(readonly arn: string) {
    super(`Activity Does Not Exist: '${arn}'; call CreateActivity first.`, { arn });
  }
}

export class TaskDoesNotExistError extends StepFunctionsApiError {
  readonly awsType = 'TaskDoesNotExist';
  override readonly code = 'task_missing';
  constructor(readonly taskToken: string) {
    super('Task Does Not Exist: the token was never issued by this endpoint; use a token from GetActivityTask.', {
      taskToken,
    });
  }
}

export class TaskTimedOutError extends StepFunctionsApiError {
  readonly awsType = 'TaskTimedOut';
  override readonly code = 'task_closed';
  constructor(readonly taskToken: string) {
    super(
      'Task Timed Out: the task already finished, timed out or its execution stopped; drop the work and poll again.',
      { taskToken },
    );
  }
}

/**
 * A task failure handed to the state machine runner, which reads it by the States protocol rather than as a
 * coded error:
 * - `name` is the States error name that Retry/Catch match (e.g. `Image.Corrupt`, `States.Runtime`), so it
 *   replaces the class name that the base sets;
 * - `message` is the States Cause, verbatim;
 * - the runner reports an Error's `cause` property as the States Cause, so nothing is chained: the thrown
 *   value behind the failure is kept in `original` instead.
 */
export class StateTaskError extends StepFunctionsError {
  override readonly code = 'task_failed';
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
  override readonly code = 'listen_failed';
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`Cannot listen on ${host}:${port}: choose a free port, or 0 to pick one.`, { host, port }, options);
  }
}
