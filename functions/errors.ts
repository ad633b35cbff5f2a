/**
 * Every error a caller of the HTTP API can see. Each class carries its HTTP status and a stable
 * `code`; `app.ts` turns them into `{"error": {"code", "message", ...details}}` in one place.
 */

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number = 500;
  readonly code: string = 'internal';
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class InvalidInputError extends ApiError {
  override name = 'InvalidInputError';
  override readonly status = 400;
  override readonly code: string = 'invalid_input';
}

export class InvalidPathError extends InvalidInputError {
  override name = 'InvalidPathError';
  override readonly code = 'invalid_path';
  constructor(path: string, why: string) {
    super(`path "${path}" ${why}; give a path relative to the repository root, without "..", that stays inside it`, {
      path,
    });
  }
}

export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError';
  override readonly status = 401;
  override readonly code = 'unauthorized';
  constructor(message = 'missing or unknown bearer token; send "Authorization: Bearer <token>"') {
    super(message);
  }
}

export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
  override readonly status = 403;
  override readonly code = 'forbidden';
  constructor(role: string, needed: string) {
    super(`a ${role} token cannot do this; it needs the ${needed} role: ask an admin for such a token`, {
      role,
      needed,
    });
  }
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
  override readonly status = 404;
  override readonly code = 'not_found';
  constructor(kind: string, ref: string) {
    super(
      `no ${kind} with id or name "${ref}"; list them with GET /v1/${kind === 'repository' ? 'repositories' : `${kind}s`}`,
      {
        kind,
        ref,
      },
    );
  }
}

export class ConflictError extends ApiError {
  override name = 'ConflictError';
  override readonly status = 409;
  override readonly code: string = 'conflict';
}

export class NameTakenError extends ConflictError {
  override name = 'NameTakenError';
  override readonly code = 'name_taken';
  constructor(kind: string, name: string) {
    super(`a ${kind} named "${name}" already exists; pick another name or delete that ${kind} first`, { kind, name });
  }
}

export class InvalidTransitionError extends ConflictError {
  override name = 'InvalidTransitionError';
  override readonly code = 'invalid_transition';
  constructor(event: string, state: string, allowed: readonly string[]) {
    super(
      `cannot ${event} a clone that is ${state}; events allowed now: ${allowed.length ? allowed.join(', ') : 'none'}`,
      { event, state, allowed },
    );
  }
}

export class BusyError extends ConflictError {
  override name = 'BusyError';
  override readonly code = 'busy';
  constructor(kind: string, id: string, operation?: string) {
    super(
      `${kind} ${id} is busy with operation ${operation ?? '(unknown)'}; wait for it to end (GET /v1/operations/${operation ?? ''}) and retry`,
      { kind, id, operation },
    );
  }
}

export class MachineTakenError extends ConflictError {
  override name = 'MachineTakenError';
  override readonly code = 'machine_taken';
  constructor(machine: string, clone: string) {
    super(`machine ${machine} already carries clone ${clone}; unassign that clone first or pick another machine`, {
      machine,
      clone,
    });
  }
}

export class RequirementsNotMetError extends ConflictError {
  override name = 'RequirementsNotMetError';
  override readonly code = 'requirements_not_met';
  constructor(machine: string, unmet: string[]) {
    super(`machine ${machine} does not meet the master's requirements: ${unmet.join('; ')}; pick a machine that does`, {
      machine,
      unmet,
    });
  }
}

export class InUseError extends ConflictError {
  override name = 'InUseError';
  override readonly code = 'in_use';
}

export class StaleRecordError extends ConflictError {
  override name = 'StaleRecordError';
  override readonly code = 'stale';
  constructor(kind: string, id: string) {
    super(`${kind} ${id} changed while this request ran; read it again and retry`, { kind, id });
  }
}

export class PayloadTooLargeError extends ApiError {
  override name = 'PayloadTooLargeError';
  override readonly status = 413;
  override readonly code = 'too_large';
  constructor(limit: number) {
    super(
      `request body is larger than ${limit} bytes; send less (large files belong in the repository, use "source")`,
      {
        limit,
      },
    );
  }
}

export class UnavailableError extends ApiError {
  override name = 'UnavailableError';
  override readonly status = 503;
  override readonly code = 'unavailable';
}

/** An agent's outcome that does not fit its task's contract: the operation fails instead of committing it. */
export class MalformedOutcomeError extends ApiError {
  override name = 'MalformedOutcomeError';
  override readonly status = 502;
  override readonly code = 'malformed_outcome';
  constructor(task: string, field: string, problem: string) {
    super(
      `the edge agent's outcome of task "${task}" does not fit its contract: ${field}: ${problem}; the agent and the functions are of different versions or the agent is faulty: upgrade the agent to this version and retry`,
      { task, field },
    );
  }
}
