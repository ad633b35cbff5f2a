/**
 * Typed failures of the local secret store. Each carries a snake_case `code` and, in `details`, the data a
 * caller needs; an API error also carries the AWS error type that SDK clients match on. No message, detail or
 * `cause` ever holds a secret value: errors name secrets, versions and parameters, never what they hold.
 */
import { CodedError } from '../../../functions/errors';
import type { SignatureRefusedError } from '../sigv4';

/** Marks a failure of the local secret store; code, status, details and `cause` come from `CodedError`. */
export class SecretStoreError extends CodedError {}

/** An error answered to API callers with `{"__type": awsType, "message": ...}`, as AWS does (HTTP 400 unless said). */
export abstract class SecretsApiError extends SecretStoreError {
  override readonly status: number = 400;
  /** The AWS error code clients match on (e.g. `ResourceNotFoundException`). */
  abstract readonly awsType: string;
}

// ── Requests the endpoint cannot read ─────────────────────────────────────────────────────────────────────

export class UnknownOperationError extends SecretsApiError {
  readonly awsType = 'UnknownOperationException';
  override readonly code = 'unknown_operation';
  constructor(
    readonly operation: string,
    supported: readonly string[],
  ) {
    super(
      `Operation "${operation}" is not served by the local secret store: send X-Amz-Target secretsmanager.<Operation> ` +
        `with one of ${supported.join(', ')}.`,
      { operation, supported },
    );
  }
}

export class MalformedRequestError extends SecretsApiError {
  readonly awsType = 'SerializationException';
  override readonly code = 'malformed_request';
  // No `cause`: JSON.parse quotes the body it failed on, and the body may hold a secret value.
  constructor(reason: string) {
    super(
      `Request body is not usable (${reason}): POST a JSON object to / with content-type application/x-amz-json-1.1.`,
      { reason },
    );
  }
}

export class RequestTooLargeError extends SecretsApiError {
  override readonly status = 413;
  readonly awsType = 'RequestEntityTooLargeException';
  override readonly code = 'request_too_large';
  constructor(readonly limitBytes: number) {
    super(`Request body is larger than ${limitBytes} bytes: a secret value holds at most 65536 bytes.`, { limitBytes });
  }
}

// ── Who is asking ──────────────────────────────────────────────────────────────────────────────────────────

/**
 * A request refused before any secret was looked at: it is not signed with the store's credentials. The
 * type, status, code and message are those of the shared SigV4 check's refusal (../sigv4.ts).
 */
export class RefusedRequestError extends SecretsApiError {
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

// ── The Secrets Manager errors ─────────────────────────────────────────────────────────────────────────────

export class InvalidParameterError extends SecretsApiError {
  readonly awsType = 'InvalidParameterException';
  override readonly code = 'invalid_parameter';
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(`Parameter ${parameter} ${problem}.`, { parameter, problem });
  }
}

export class SecretNotFoundError extends SecretsApiError {
  readonly awsType = 'ResourceNotFoundException';
  override readonly code = 'secret_not_found';
  constructor(readonly secretId: string) {
    super(`Secrets Manager can't find the specified secret "${secretId}": create it first with CreateSecret.`, {
      secretId,
    });
  }
}

export class SecretValueNotFoundError extends SecretsApiError {
  readonly awsType = 'ResourceNotFoundException';
  override readonly code = 'secret_value_not_found';
  constructor(
    readonly secretId: string,
    readonly selector: string,
  ) {
    super(
      `Secrets Manager can't find the specified secret value for ${selector} of "${secretId}": ` +
        'store a value with PutSecretValue, or ask for a version the secret has (DescribeSecret lists them).',
      { secretId, selector },
    );
  }
}

export class SecretExistsError extends SecretsApiError {
  readonly awsType = 'ResourceExistsException';
  override readonly code = 'secret_exists';
  constructor(readonly secretName: string) {
    super(
      `The operation failed because the secret ${secretName} already exists: store a new value with PutSecretValue, ` +
        'or retry CreateSecret with the ClientRequestToken and value of the first call.',
      { secretName },
    );
  }
}

export class VersionExistsError extends SecretsApiError {
  readonly awsType = 'ResourceExistsException';
  override readonly code = 'version_exists';
  constructor(
    readonly secretName: string,
    readonly versionId: string,
  ) {
    super(
      `Version ${versionId} of secret ${secretName} already exists with another value: a version cannot change; ` +
        'use a new ClientRequestToken for a new value.',
      { secretName, versionId },
    );
  }
}

export class MarkedForDeletionError extends SecretsApiError {
  readonly awsType = 'InvalidRequestException';
  override readonly code = 'marked_for_deletion';
  constructor(
    readonly secretName: string,
    readonly operation: string,
  ) {
    super(
      `You can't perform ${operation} on secret ${secretName} because it was marked for deletion: ` +
        'RestoreSecret brings it back, DeleteSecret with ForceDeleteWithoutRecovery removes it now.',
      { secretName, operation },
    );
  }
}

export class NameScheduledForDeletionError extends SecretsApiError {
  readonly awsType = 'InvalidRequestException';
  override readonly code = 'name_scheduled_for_deletion';
  constructor(readonly secretName: string) {
    super(
      `You can't create secret ${secretName} because a secret with this name is already scheduled for deletion: ` +
        'RestoreSecret it, or DeleteSecret it with ForceDeleteWithoutRecovery first.',
      { secretName },
    );
  }
}

export class InternalServiceError extends SecretsApiError {
  override readonly status = 500;
  readonly awsType = 'InternalServiceError';
  override readonly code = 'internal';
  constructor() {
    super('The local secret store failed to handle the request: read its log for the reason, then retry.');
  }
}

// ── Starting the store ─────────────────────────────────────────────────────────────────────────────────────

export class KeyFileError extends SecretStoreError {
  override readonly code = 'key_file_unusable';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Key file ${file} ${problem}.`, { file, problem }, options);
  }
}

export class StoreUnreadableError extends SecretStoreError {
  override readonly code = 'store_unreadable';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Secret store ${file} ${problem}.`, { file, problem }, options);
  }
}

export class StoreLockedError extends SecretStoreError {
  override readonly code = 'store_locked';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `Secret store ${dir} is in use by process ${pid}: stop that stack first, or give this one another directory.`,
      { dir, pid },
    );
  }
}

export class StartOptionsError extends SecretStoreError {
  override readonly code = 'invalid_options';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`startSecrets option ${option} ${problem}.`, { option, problem });
  }
}

export class EndpointStartError extends SecretStoreError {
  override readonly code = 'listen_failed';
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`Cannot listen on ${host}:${port}: choose a free port, or 0 to pick one.`, { host, port }, options);
  }
}
