/**
 * Errors of the agent itself (configuration, unknown tasks, bad task input). Driver errors keep
 * their own classes in their module's errors.ts; every one of them has a `code`, which becomes the
 * Step Functions error name, and the message becomes the operation's error message.
 */
export class AgentError extends Error {
  /** For a task cut short: what cut it, which the operation's error names as its `reason`. */
  readonly interruption?: 'agent_restarted';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ConfigError extends AgentError {
  constructor(message: string) {
    super('invalid_config', message);
  }
}

export class UnknownTaskError extends AgentError {
  constructor(task: string, known: string[]) {
    super('unknown_task', `this agent cannot run task "${task}" (it knows ${known.join(', ')}); upgrade the agent`);
  }
}

/** A task whose input does not fit its contract (statemachines/tasks.ts): nothing was done. */
export class MalformedTaskError extends AgentError {
  constructor(task: string, field: string, problem: string) {
    super(
      'malformed_task',
      `task "${task}" arrived with ${field} that does not fit its contract: ${problem}; the functions and this agent are of different versions: upgrade the agent`,
    );
  }
}

export class NoDriverError extends AgentError {
  constructor(kind: string, name: string, known: string[]) {
    super(
      'no_driver',
      `no ${kind} driver "${name}" on this agent (it has ${known.join(', ') || 'none'}); use a supported kind or enable the driver`,
    );
  }
}

export class NoFilesystemError extends AgentError {
  constructor(path: string, format = 'raw') {
    super(
      'no_filesystem',
      format === 'qcow2'
        ? `${path} is a qcow2 linked clone, which cannot be customized offline; clone with method reflink, sparse or copy (or auto), or drop the customization items`
        : `found no ext2/ext3/ext4 filesystem in ${path} (bare or in an MBR/GPT partition); customization needs one: use a master that has it, or drop the customization items`,
    );
  }
}

/** An image to import in which nothing says it is a disk: no filesystem, no partition table, no qcow2 header. */
export class UnrecognizedImageError extends AgentError {
  constructor(path: string) {
    super(
      'unrecognized_image',
      `found no filesystem, no MBR or GPT partition table and no qcow2 header in ${path}, so it may not be a disk image at all; check the file, or import it with "format": "raw" if it really is a raw disk`,
    );
  }
}

export class ChecksumMismatchError extends AgentError {
  constructor(path: string, expected: string, actual: string) {
    super(
      'checksum_mismatch',
      `${path} has sha256 ${actual} but ${expected} was expected; the source changed or was damaged in transit: check it and try again`,
    );
  }
}

/**
 * A task that an agent restart cut short more often than the agent resumes one: it may be what brings
 * the agent down, so it fails instead of taking the agent with it once more.
 */
export class ResumedTooOftenError extends AgentError {
  override readonly interruption = 'agent_restarted';
  constructor(task: string, resumes: number) {
    super(
      'interrupted',
      `task "${task}" was cut short by ${resumes + 1} restarts of the edge agent in a row and is not run again; read the agent's log for why it stopped, then retry the request`,
    );
  }
}

/** A task on a repository this agent does not reach: handed back, so the workflow offers it to another agent. */
export class NotReachedError extends AgentError {
  constructor(task: string, repository: string, host: string) {
    super(
      'not_reached',
      `task "${task}" needs repository ${repository}, which the agent on host ${host} does not reach (its configuration's "repositories.shared" leaves it out); another agent of the site takes it, or list the repository there`,
    );
  }
}

/** What Step Functions gets for a failed task: the error name and a JSON cause for the functions. */
export function failureOf(e: unknown): { error: string; cause: string } {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' && /^[a-z_]+$/.test(err.code) ? err.code : 'agent_error';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const reason = e instanceof AgentError ? e.interruption : undefined;
  return { error: code, cause: JSON.stringify({ code, message, ...(reason ? { reason } : {}) }) };
}

/** A task names a secret of another site: this agent reads only its own site's secrets, and does not ask for others. */
export class SecretOfOtherSiteError extends AgentError {
  constructor(ref: string, site: string) {
    super(
      'secret_of_other_site',
      `the task names secret ${ref}, which belongs to another site; the agent of site ${site} reads only secret://${site}/… references: give the machine credentials of its own site`,
    );
  }
}

/** A secret reference the store could not resolve (gone, unreadable, or the store did not answer). */
export class SecretUnavailableError extends AgentError {
  constructor(ref: string, problem: string, cause?: unknown) {
    super(
      'secret_unavailable',
      `cannot resolve secret ${ref}: ${problem}; check that the secret store is reachable from this agent and that the machine's credentials are set (PATCH its credentials again if it was removed)`,
      { cause },
    );
  }
}

/** The end of a hook's output that its error and outcome show. */
export const HOOK_OUTPUT_SHOWN_CHARS = 2000;

export class UnknownHookError extends AgentError {
  constructor(hook: string, known: string[]) {
    super(
      'unknown_hook',
      `this agent has no hook "${hook}" (it has ${known.length ? known.join(', ') : 'none'}); add it under "hooks" in the agent's configuration and restart the agent`,
    );
  }
}

export class HookFailedError extends AgentError {
  constructor(hook: string, why: string, output: string) {
    super(
      'hook_failed',
      `hook "${hook}" ${why}${output ? `; it said: ${output.slice(-HOOK_OUTPUT_SHOWN_CHARS)}` : ''}`,
    );
  }
}

/** A bundle (export/import) whose manifest is missing or does not fit statemachines/bundle.ts. */
export class BundleUnreadableError extends AgentError {
  constructor(where: string, problems: string[]) {
    super(
      'bundle_unreadable',
      `the bundle at ${where} cannot be read: ${problems.join('; ')}; point the import at a folder an export wrote (it holds manifest.json)`,
    );
  }
}

/** An object of a bundle whose bytes do not match the manifest: nothing of the import is written. */
export class BundleDamagedError extends AgentError {
  constructor(object: string, path: string, what: string) {
    super(
      'bundle_damaged',
      `object ${object} (${path}) of the bundle does not match its manifest: ${what}; nothing was imported: export it again or copy the bundle again`,
    );
  }
}

/** An export into a folder that already holds another bundle. */
export class BundleExistsError extends AgentError {
  constructor(where: string, other: string) {
    super(
      'bundle_exists',
      `${where} already holds the bundle of export ${other}; export into another folder, or remove that one first`,
    );
  }
}
