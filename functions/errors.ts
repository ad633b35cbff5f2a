/**
 * Every error a caller of the HTTP API can see, and the one base that every `errors.ts` of functions/ and
 * infra/ builds on. Each class carries its HTTP status and a stable `code`; `app.ts` turns an `ApiError`
 * into `{"error": {"code", "message", ...details}}` in one place.
 *
 * A subclass gives its code and status as fields on the class (`override readonly code = 'busy'`), never as
 * constructor arguments; its constructor builds the message and the `details`. This file is web-standard
 * (no `node:` imports) so that infra/ may import the base and the functions still run in workerd.
 */

import { fieldPath } from './domain/field-path';

/**
 * The base of every coded error. `name` is the class's name, set here once; `cause` is chained through
 * `options`, as `Error` does.
 */
export class CodedError extends Error {
  /** The HTTP status of a response that reports this error. */
  readonly status: number = 500;
  /** A stable snake_case identifier that callers match on; the message may be reworded, the code may not. */
  readonly code: string = 'internal';
  constructor(
    message: string,
    /** The data a caller needs to act on the error (for the HTTP API, merged into the error body). */
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** An error meant for the HTTP caller: `app.ts` answers it with its status, code, message and details. */
export class ApiError extends CodedError {}

export class InvalidInputError extends ApiError {
  override readonly status = 400;
  override readonly code: string = 'invalid_input';
}

export class InvalidPathError extends InvalidInputError {
  override readonly code = 'invalid_path';
  constructor(path: string, why: string) {
    super(`path "${path}" ${why}; give a path relative to the repository root, without "..", that stays inside it`, {
      path,
    });
  }
}

/** A list's `cursor` that no page of that list handed out (made up, cut short, or from another list). */
export class InvalidCursorError extends InvalidInputError {
  override readonly code = 'invalid_cursor';
  constructor() {
    const what = 'is not a cursor this list handed out';
    const fix = 'drop it to start from the first page, or pass the "cursor" of the previous page unchanged';
    super(`query.cursor ${what}; ${fix}`, { problems: [`query.cursor: ${what}; ${fix}`] });
  }
}

export class UnauthorizedError extends ApiError {
  override readonly status = 401;
  override readonly code = 'unauthorized';
  constructor(message = 'missing or unknown bearer token; send "Authorization: Bearer <token>"') {
    super(message);
  }
}

export class ForbiddenError extends ApiError {
  override readonly status = 403;
  override readonly code = 'forbidden';
  constructor(role: string, needed: string) {
    const fix =
      needed === 'agent'
        ? 'only an edge agent calls this route, with the agent token of its site'
        : 'ask an admin for such a token';
    super(`${article(role)} ${role} token cannot do this; it needs the ${needed} role: ${fix}`, {
      role,
      needed,
    });
  }
}

/** Heartbeats and progress come only from the agent of the site they are about. */
export class NotThisAgentError extends ApiError {
  override readonly status = 403;
  override readonly code = 'forbidden';
  constructor(what: string, site: string, caller: { role: string; site?: string }) {
    super(
      caller.role === 'agent'
        ? `the agent token of site ${caller.site} cannot report ${what} of site ${site}; only the agent of site ${site} does, with its own token`
        : `${article(caller.role)} ${caller.role} token cannot report ${what}; only the edge agent of site ${site} does, with its agent token`,
      { site, role: caller.role },
    );
  }
}

export class NotFoundError extends ApiError {
  override readonly status = 404;
  override readonly code = 'not_found';
  /** `hint`: what else the caller may have meant (e.g. a destroyed clone, read by its id). */
  constructor(kind: string, ref: string, hint?: string) {
    super(
      `no ${kind} with id or name "${ref}"; list them with GET /v1/${kind === 'repository' ? 'repositories' : `${kind}s`}${hint ? `; ${hint}` : ''}`,
      {
        kind,
        ref,
      },
    );
  }
}

/** A path no route has: where the routes are described. */
export class RouteNotFoundError extends ApiError {
  override readonly status = 404;
  override readonly code = 'not_found';
  constructor(method: string, path: string) {
    super(
      `no route ${method} ${path}; every route is in the OpenAPI document (GET /v1/openapi.json) and the API reference (/docs)`,
      { kind: 'route', ref: `${method} ${path}`, openapi: '/v1/openapi.json', docs: '/docs' },
    );
  }
}

/** A path that has routes, none of them for the request's method; the answer carries an `Allow` header. */
export class MethodNotAllowedError extends ApiError {
  override readonly status = 405;
  override readonly code = 'method_not_allowed';
  constructor(
    method: string,
    path: string,
    readonly allow: string[],
  ) {
    super(`${path} has no ${method} route; it answers ${allow.join(', ')} (see GET /v1/openapi.json or /docs)`, {
      method,
      allow,
    });
  }
}

/** Query parameters a route does not read: refused, since a misspelled filter would otherwise filter nothing. */
export class UnknownQueryParameterError extends InvalidInputError {
  override readonly code = 'unknown_query_parameter';
  constructor(unknown: string[], accepted: string[]) {
    const takes = accepted.length ? `it takes ${accepted.join(', ')}` : 'it takes no query parameters';
    const what = (k: string) =>
      `${fieldPath('query', [k])}: is not a parameter of this route; ${takes}${k === 'cursor' ? ' (this list is not paged: it answers every item at once)' : ''}`;
    super(`unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; ${takes}`, {
      unknown,
      accepted,
      problems: unknown.map(what),
    });
  }
}

/**
 * Variables that the customization they are for never uses: refused, since a misspelled name would
 * otherwise be kept and the variable the template needs left out. `at` is the field path of the
 * variables (`body.variables`), `template` whose items they are for, `expected` the names they use.
 */
export class UnknownVariableError extends InvalidInputError {
  override readonly code = 'unknown_variable';
  constructor(at: string, unknown: string[], expected: string[], template: string) {
    const uses = expected.length ? `it uses ${expected.join(', ')}` : 'it uses no variables';
    const paths = unknown.map((name) => fieldPath(at, [name]));
    const them = unknown.length > 1 ? 'them' : 'it';
    super(`${paths.join(', ')}: ${template} does not use ${them}; ${uses}; check the spelling, or leave ${them} out`, {
      unknown,
      expected,
      problems: paths.map((p) => `${p}: ${template} does not use it; ${uses}`),
    });
  }
}

export class ConflictError extends ApiError {
  override readonly status = 409;
  override readonly code: string = 'conflict';
}

export class NameTakenError extends ConflictError {
  override readonly code = 'name_taken';
  constructor(kind: string, name: string) {
    super(`a ${kind} named "${name}" already exists; pick another name or delete that ${kind} first`, { kind, name });
  }
}

export class InvalidTransitionError extends ConflictError {
  override readonly code = 'invalid_transition';
  constructor(event: string, state: string, allowed: readonly string[]) {
    super(
      `cannot ${event} a clone that is ${state}; events allowed now: ${allowed.length ? allowed.join(', ') : 'none'}`,
      { event, state, allowed },
    );
  }
}

export class BusyError extends ConflictError {
  override readonly code = 'busy';
  constructor(kind: string, id: string, operation?: string) {
    super(
      `${kind} ${id} is busy with operation ${operation ?? '(unknown)'}; wait for it to end (GET /v1/operations/${operation ?? ''}) and retry`,
      { kind, id, operation },
    );
  }
}

export class MacTakenError extends ConflictError {
  override readonly code = 'mac_taken';
  constructor(mac: string, machine: string) {
    super(
      `MAC ${mac} is machine ${machine}'s already: a burned-in MAC names one NIC; correct the address, or remove it from ${machine} first (PATCH /v1/machines/${machine})`,
      { mac, machine },
    );
  }
}

export class MachineTakenError extends ConflictError {
  override readonly code = 'machine_taken';
  constructor(machine: string, clone: string) {
    super(`machine ${machine} already carries clone ${clone}; unassign that clone first or pick another machine`, {
      machine,
      clone,
    });
  }
}

export class RequirementsNotMetError extends ConflictError {
  override readonly code = 'requirements_not_met';
  constructor(machine: string, unmet: string[]) {
    super(`machine ${machine} does not meet the master's requirements: ${unmet.join('; ')}; pick a machine that does`, {
      machine,
      unmet,
    });
  }
}

/**
 * A change to a machine that would pull the rug from under the clone it carries: the clone was checked
 * against the field at assign, or attach set up the storage and the machine with it.
 */
export class MachineBoundError extends ConflictError {
  override readonly code = 'machine_bound';
  constructor(machine: string, clone: string, binding: string, field: string, why: string) {
    super(
      `${field} of machine ${machine} cannot change while it carries clone ${clone} (${binding}): ${why}; unassign the clone first (deactivate and detach it before, if it is active or attached), or leave ${field} out`,
      { machine, clone, binding, field },
    );
  }
}

/** Credentials kept with one site's secrets, on a machine that moves to another site, whose agent cannot read them. */
/** A linked clone asked to move where its image could not read through to its master. */
export class BackingUnreachableError extends InvalidInputError {
  override readonly code = 'backing_unreachable';
  constructor(clone: string, master: string, repository: string, kind: string, site: string) {
    const why =
      kind === 'iscsi'
        ? 'an iSCSI repository serves each image as a raw LUN, which cannot read through to a backing file'
        : `its images cannot reach the master's repository`;
    super(
      `clone ${clone} is a linked clone (a qcow2 overlay that reads through to master ${master}), and ${why}, so it cannot move to repository ${repository}; it is never flattened on the way. Move it to a file repository of site ${site}, or reconfigure and capture it (a capture flattens it into a new master version) and clone that into ${repository}`,
      { clone, master, repository },
    );
  }
}

export class CredentialsOfOtherSiteError extends InvalidInputError {
  override readonly code = 'credentials_of_other_site';
  constructor(machine: string, from: string, to: string, fields: string[]) {
    const why = `is kept with the secrets of site ${from}, which the agent of site ${to} cannot read; send its value again with the new site`;
    const problems = fields.map((f) => `${f}: ${why}`);
    super(`machine ${machine} moves from site ${from} to ${to}: ${problems.join('; ')}`, { problems });
  }
}

/** A machine whose record still holds a credential's value (written before credentials were kept by reference). */
export class CredentialNotStoredError extends ConflictError {
  override readonly code = 'credential_not_stored';
  constructor(machine: string, key: string) {
    super(
      `machine ${machine} holds credentials.${key} as a value instead of a reference to the secret store, so it cannot be handed to the agent; send it again (PATCH /v1/machines/${machine} {"credentials": {"${key}": "…"}}) and it is moved into the secret store`,
      { machine, field: `credentials.${key}` },
    );
  }
}

/** Revoking the last admin token would leave nobody able to make tokens, sites or repositories. */
export class LastAdminError extends ConflictError {
  override readonly code = 'last_admin';
  constructor(id: string) {
    super(
      `token ${id} is the last admin token: revoking it would lock every admin out; create another admin token first (POST /v1/tokens {"role":"admin"}), then revoke this one`,
      { token: id },
    );
  }
}

/** DynamoDB cancelled a transaction because another one wrote the same records at that moment. */
export class ConcurrentWriteError extends ConflictError {
  override readonly code = 'concurrent_write';
  constructor(options?: ErrorOptions) {
    super('another request wrote the same records at the same moment; read them again and retry', {}, options);
  }
}

export class InUseError extends ConflictError {
  override readonly code = 'in_use';
}

export class StaleRecordError extends ConflictError {
  override readonly code = 'stale';
  constructor(kind: string, id: string) {
    super(`${kind} ${id} changed while this request ran; read it again and retry`, { kind, id });
  }
}

export class PayloadTooLargeError extends ApiError {
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

/** A record over DynamoDB's 400 KB per item: refused before anything is written. */
export class RecordTooLargeError extends ApiError {
  override readonly status = 413;
  override readonly code = 'record_too_large';
  constructor(kind: string, bytes: number, limit: number, largest: string[]) {
    super(
      `the ${kind} record would take ${Math.ceil(bytes / 1024)} KiB, over the ${limit / 1024} KiB a record can hold (largest fields: ${largest.join(', ')}); make those smaller: large files belong in the repository (customization items can name a "source" file instead of carrying "content")`,
      { bytes, limit, largest },
    );
  }
}

/** The work a request asks for would not fit in a workflow's input (Step Functions takes 256 KiB). */
export class WorkflowInputTooLargeError extends ApiError {
  override readonly status = 413;
  override readonly code = 'work_too_large';
  constructor(bytes: number, limit: number) {
    super(
      `the agent's task for this request would take ${Math.ceil(bytes / 1024)} KiB, over the ${Math.floor(limit / 1024)} KiB a workflow's input can hold (the clone's customization items travel whole); put large files in the repository and name them with "source" instead of "content"`,
      { bytes, limit },
    );
  }
}

/** A customization that would not fit where it goes: its document, or the agent's report of applying it. */
export class CustomizationTooLargeError extends ApiError {
  override readonly status = 413;
  override readonly code = 'customization_too_large';
  constructor(what: string, bytes: number, limit: number, remedy: string) {
    super(
      `${what} would take ${Math.ceil(bytes / 1024)} KiB, over the ${Math.floor(limit / 1024)} KiB it can hold; ${remedy}`,
      { bytes, limit },
    );
  }
}

/** The customization document a clone's record names is gone or altered: it cannot be planned on. */
export class CustomizationUnreadableError extends ApiError {
  override readonly status = 409;
  override readonly code = 'customization_unreadable';
  constructor(key: string, problem: string) {
    super(
      `the clone's customization document ${key} cannot be used: ${problem}; restore the object from a backup of the bucket, or destroy the clone and clone its master again`,
      { key },
    );
  }
}

/** A value that DynamoDB cannot keep (nested too deep, an empty key, a number out of range): refused before writing. */
export class UnstorableValueError extends InvalidInputError {
  override readonly code = 'unstorable_value';
  constructor(kind: string, field: string, problem: string) {
    super(`the ${kind} record cannot be stored: ${field} ${problem}`, { field });
  }
}

export class UnavailableError extends ApiError {
  override readonly status = 503;
  override readonly code = 'unavailable';
}

/** An agent's outcome that does not fit its task's contract: the operation fails instead of committing it. */
export class MalformedOutcomeError extends ApiError {
  override readonly status = 502;
  override readonly code = 'malformed_outcome';
  constructor(task: string, field: string, problem: string) {
    super(
      `the edge agent's outcome of task "${task}" does not fit its contract: ${field}: ${problem}; the agent and the functions are of different versions or the agent is faulty: upgrade the agent to this version and retry`,
      { task, field },
    );
  }
}

/** A repository whose site has no record, or whose site's agent never reported: nobody could do the work. */
export class NoAgentError extends ConflictError {
  override readonly code = 'no_agent';
  constructor(repository: string, site: string, known: boolean) {
    super(
      known
        ? `no edge agent of site "${site}" has ever reported, so nobody can work on repository ${repository}; start the site's agent (with an agent token of that site), then retry`
        : `repository ${repository} names site "${site}", which does not exist; recreate the site (POST /v1/sites) or delete the repository`,
      { repository, site },
    );
  }
}

/** Work that would use a repository whose root its site's agent has not found usable (store/repositories.ts). */
export class RepositoryNotReadyError extends ConflictError {
  override readonly code = 'repository_not_ready';
  constructor(repository: string, status: string, use: string, reason?: string) {
    super(
      status === 'checking'
        ? `repository ${repository} is still checking (its site's agent has not yet found its path usable), so it cannot take ${use}; wait for the check: GET /v1/repositories/${repository}?wait=20 answers once it ended${reason ? ` (${reason})` : ''}`
        : `repository ${repository} is ${status}, so it cannot take ${use}: ${reason ?? 'its last check failed'}`,
      { repository, status },
    );
  }
}

/** An image that the last check of its repository did not report as an orphan. */
export class OrphanNotFoundError extends ApiError {
  override readonly status = 404;
  override readonly code = 'not_found';
  constructor(repository: string, path: string) {
    super(
      `the last check of repository ${repository} found no orphan "${path}"; list them with GET /v1/repositories/${repository}/orphans, or check again with POST /v1/repositories/${repository}/check`,
      { kind: 'orphan', repository, path },
    );
  }
}

/** An orphan that a record or the work in hand claims since the check reported it. */
export class NotAnOrphanError extends ConflictError {
  override readonly code = 'not_orphan';
  constructor(repository: string, path: string, by: string) {
    super(
      `image "${path}" in repository ${repository} is no orphan now: ${by} claims it; check the repository again (POST /v1/repositories/${repository}/check)`,
      { repository, path, by },
    );
  }
}

// Export and import of a site bundle (functions/transfer/).

/** A master of an export that is not ready, or whose images sit on different sites. */
export class NotExportableError extends InvalidInputError {
  override readonly code = 'not_exportable';
}

/** A bundle folder or S3 bundle that holds no manifest. */
export class BundleNotFoundError extends ApiError {
  override readonly status = 404;
  override readonly code = 'bundle_not_found';
  constructor(where: string) {
    super(`no bundle at ${where} (it has no manifest.json); give the id of a finished export, or its S3 key`, {
      where,
    });
  }
}

/** A manifest that does not fit the bundle schema (statemachines/bundle.ts). */
export class BundleInvalidError extends InvalidInputError {
  override readonly code = 'bundle_invalid';
  constructor(where: string, problems: string[]) {
    super(`the manifest of the bundle at ${where} is not one an export writes: ${problems.join('; ')}`, { problems });
  }
}

/** A repository where a bundle is to be written or read that is not a directory (kind file). */
export class BundleRepositoryError extends InvalidInputError {
  override readonly code = 'bundle_repository';
  constructor(repository: string, why: string) {
    super(`repository ${repository} cannot hold a bundle: ${why}; use a file repository of the site`, { repository });
  }
}
