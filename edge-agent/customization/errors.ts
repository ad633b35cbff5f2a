/**
 * Errors of offline customization: AgentErrors with a `code`, each naming the item at fault and saying
 * what to change. A file item whose directory is not in the image fails with the image filesystem's
 * MissingDirectoryError, which then names the item.
 */
import { AgentError } from '../errors';

/** An item that cannot be applied as written (shape, type, path, mode, source). */
export class InvalidItemError extends AgentError {
  constructor(
    readonly index: number,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super('invalid_item', `Customization item ${index}: ${problem}`, options);
  }
}

/** `${name}` references without a value in the assignment's variables. */
export class MissingVariableError extends AgentError {
  constructor(
    readonly names: string[],
    /** For each missing name, the indexes of the items that use it. */
    readonly usedBy: Record<string, number[]>,
  ) {
    const uses = names.map((n) => `${n} (item ${usedBy[n]?.join(', ')})`).join('; ');
    super(
      'missing_variable',
      `Missing variable${names.length > 1 ? 's' : ''}: ${uses}. Give ${names.length > 1 ? 'them values' : 'it a value'} in the assignment's variables, or write $\${name} where a literal \${name} is meant.`,
    );
  }
}

/** A variable whose value is not a string. */
export class InvalidVariableError extends AgentError {
  constructor(readonly variable: string) {
    super('invalid_variable', `Variable ${JSON.stringify(variable)} must have a string value. Quote it, e.g. "8080".`);
  }
}

/** A replace item whose pattern or flags do not form a valid regular expression. */
export class InvalidPatternError extends AgentError {
  constructor(
    readonly index: number,
    readonly pattern: string,
    readonly flags: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'invalid_pattern',
      `Customization item ${index}: /${pattern}/${flags} is not a valid regular expression (${reason}). Fix the pattern; allowed flags are g, i, m, s and u, each at most once.`,
      options,
    );
  }
}

/** A replace item aimed at a file that is not in the image. */
export class FileNotFoundError extends AgentError {
  constructor(
    readonly index: number,
    readonly path: string,
  ) {
    super(
      'file_not_found',
      `Customization item ${index}: ${path} does not exist in the image, so nothing can be replaced in it. Fix the path, or write the file with a 'file' item first.`,
    );
  }
}

/** A regular expression that ran past its time limit (catastrophic backtracking, usually). */
export class RegexTimeoutError extends AgentError {
  constructor(
    readonly index: number,
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(
      'regex_timeout',
      `Customization item ${index}: pattern /${pattern}/ did not finish within ${timeoutMs} ms and was stopped; nothing was changed. Simplify the pattern: anchor it (^…$ with the m flag), avoid nested quantifiers such as (a+)+.`,
    );
  }
}

/** The regular expression failed while running (other than by taking too long). */
export class RegexFailedError extends AgentError {
  constructor(
    readonly index: number,
    readonly pattern: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'regex_failed',
      `Customization item ${index}: pattern /${pattern}/ failed (${reason}). Simplify the pattern or the replacement.`,
      options,
    );
  }
}

/** `from`/`to` outside the list of items or in the wrong order. */
export class InvalidRangeError extends AgentError {
  constructor(detail: string) {
    super('invalid_range', `Invalid customization range: ${detail}.`);
  }
}

/** An undo record that belongs to a different change than the item now at its index. */
export class UndoConflictError extends AgentError {
  constructor(
    readonly index: number,
    readonly recordedPath: string,
    readonly itemPath: string,
  ) {
    super(
      'undo_conflict',
      `Customization item ${index} changes ${itemPath}, but its undo record is for ${recordedPath}. Roll back to ${index} first, then apply again.`,
    );
  }
}

/** An undo record that cannot be read back. */
export class UndoRecordCorruptError extends AgentError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'undo_record_corrupt',
      `Undo record ${file} is unreadable (${reason}). The change it describes cannot be undone automatically; restore the clone from its master.`,
      options,
    );
  }
}

/** A file that did not read back as written. */
export class VerificationError extends AgentError {
  constructor(
    readonly index: number,
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'verification_failed',
      `Customization item ${index}: ${path} ${detail} after the change. Check the image (e2fsck -fn) and retry.`,
      options,
    );
  }
}

/** The caller's readSource could not provide a file item's source. */
export class SourceReadError extends AgentError {
  constructor(
    readonly index: number,
    readonly source: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'source_unreadable',
      `Customization item ${index}: source ${JSON.stringify(source)} could not be read (${reason}). Check that the source exists and is reachable from the agent.`,
      options,
    );
  }
}

/** The customization document could not be fetched, or is not the one the task names. */
export class DocumentUnreadableError extends AgentError {
  constructor(
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'customization_unreadable',
      `The customization document ${key} could not be used (${reason}); nothing was changed. Check that the agent reaches the bucket, then retry.`,
      options,
    );
  }
}

const items = (first: number, last: number) => (first === last ? `item ${first}` : `items ${first} to ${last}`);

/**
 * The task's write failed part-way (its items are written together): `failed` is the first item
 * whose file did not take. It keeps the failure's code and message, and adds what became of the
 * task's items `from` … `last`: undone, the files put back as the task found them, or, when that
 * failed too (`undoFailure`), that they may still be in, with their undo records.
 */
export class PartialApplyError extends AgentError {
  constructor(
    readonly failure: unknown,
    readonly from: number,
    readonly failed: number,
    /** The task's last item. */
    readonly last: number,
    readonly undo?: { undoFailure: unknown },
  ) {
    const f = failure as { code?: unknown; message?: unknown };
    const said = (typeof f?.message === 'string' ? f.message : String(failure)).replace(/\.?\s*$/, '.');
    const what = items(from, last);
    const outcome = undo
      ? `Undoing this task's changes (${what}) failed too (${(undo.undoFailure as Error)?.message ?? String(undo.undoFailure)}): they may still be in the image, with their undo records. Retry the request once the cause is fixed (it takes up the items already in), or restore the clone from its master.`
      : `The changes this task made (${what}) were undone from their undo records: the image is as it was before the task.`;
    super(typeof f?.code === 'string' ? f.code : 'agent_error', `${said} ${outcome}`, { cause: failure });
  }
}

/**
 * A `${secret:NAME}` the agent could not read. The message names the secret and the items using it,
 * never a value.
 */
export class SecretUnreadableError extends AgentError {
  constructor(
    readonly secret: string,
    readonly usedBy: number[],
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      'secret_unavailable',
      `Customization item ${usedBy.join(', ')} uses \${secret:${secret}}, which cannot be read (${problem}). Put it for the clone's site with PUT /v1/sites/{site}/secrets/${secret}, then retry.`,
      options,
    );
  }
}
