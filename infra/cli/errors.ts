/**
 * Every error the command line client reports, each with the exit code it ends the process with
 * (`encompass --help` and the README list them). They build on the one coded-error base; the
 * HTTP status they carry is the answer's, where an answer came.
 */
import { CodedError } from '../../functions/errors';

/** Exit codes by class of error; scripts match on these. */
export const exitCodes = {
  ok: 0,
  /** Anything else: refused credentials (401/403), a server error, an unexpected answer. */
  other: 1,
  /** The command line, or the request it made, is not valid (400, 413). */
  usage: 2,
  /** What was named does not exist (404). */
  notFound: 3,
  /** The request conflicts with the state of things: busy, invalid transition, name taken (409). */
  conflict: 4,
  /** The operation the command started (or waited for) ended failed or aborted. */
  operationFailed: 5,
  /** The API could not be reached: connection refused, name not resolved, timed out. */
  unreachable: 6,
} as const;

export const exitCodesHelp = `Exit codes:
  0  ok
  1  other error (refused credentials, server error)
  2  usage: a bad command line, or the API refused the request as invalid (400, 413)
  3  not found (404)
  4  conflict: busy, invalid transition, name taken (409)
  5  the operation ended failed or aborted
  6  the API is unreachable (connection refused, timeout)`;

/** The base of the client's errors: `exit` is the process's exit code. */
export class CliError extends CodedError {
  readonly exit: number = exitCodes.other;
}

/** A command line that does not fit the command. */
export class UsageError extends CliError {
  override readonly code = 'usage';
  override readonly exit = exitCodes.usage;
}

/** The exit code for an HTTP error status. */
export function exitForStatus(status: number): number {
  if (status === 400 || status === 413 || status === 422) return exitCodes.usage;
  if (status === 404) return exitCodes.notFound;
  if (status === 409) return exitCodes.conflict;
  return exitCodes.other;
}

/** An error answer of the API (`{"error": {code, message, …}}`), kept whole for `--json`. */
export class ApiAnswerError extends CliError {
  override readonly code: string;
  override readonly status: number;
  override readonly exit: number;
  constructor(
    status: number,
    /** The answer as the API sent it. */
    readonly body: unknown,
    what: string,
  ) {
    const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    super(`${what} answered ${status}${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? JSON.stringify(body)}`, {
      status,
    });
    this.status = status;
    this.code = e?.code ?? `http_${status}`;
    this.exit = exitForStatus(status);
  }
}

/** An operation that ended other than succeeded. */
export class OperationFailedError extends CliError {
  override readonly code = 'operation_failed';
  override readonly exit = exitCodes.operationFailed;
  constructor(
    readonly operation: { id: string; kind?: string; status: string; error?: { code?: string; message?: string } },
  ) {
    const e = operation.error;
    super(
      `operation ${operation.id} (${operation.kind ?? 'operation'}) ${operation.status}${e ? `: ${e.code ? `${e.code}: ` : ''}${e.message ?? ''}` : ''}`,
      { operation: operation.id },
    );
  }
}

/** No answer from the API at all. */
export class UnreachableError extends CliError {
  override readonly code = 'unreachable';
  override readonly exit = exitCodes.unreachable;
  constructor(url: string, why: string, options?: ErrorOptions) {
    super(
      `the API at ${url} cannot be reached (${why}); is the stack up (npm start)? Set ENCOMPASS_URL or "url" in the config file to point elsewhere`,
      { url },
      options,
    );
  }
}
