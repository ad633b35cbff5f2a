/**
 * Typed failures of storage drivers. Each is an AgentError with a snake_case `code` and the data a
 * caller needs. The programs they run fail with ToolMissingError and ToolFailedError (../errors).
 */
import { AgentError } from '../../errors';

export class PathEscapeError extends AgentError {
  constructor(
    readonly repoPath: string,
    readonly rel: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'path_escape',
      `Image path ${JSON.stringify(rel)} is refused in repository ${repoPath}: ${reason}. ` +
        'Give a non-empty path relative to the repository root that stays inside it.',
      options,
    );
  }
}

export class RepositoryUnavailableError extends AgentError {
  constructor(
    readonly repoPath: string,
    options?: { cause?: unknown },
  ) {
    super(
      'repository_unavailable',
      `Repository root ${repoPath} cannot be reached. Check that the path is absolute, exists and is mounted on this host.`,
      options,
    );
  }
}

/** A repository's root that the agent cannot use: what is wrong (`problem`, naming the path) and what to do (`fix`). */
export class RepositoryUnreachableError extends AgentError {
  constructor(
    readonly repoPath: string,
    readonly host: string,
    readonly problem: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super('repository_unreachable', `${problem} on agent ${host}; ${fix}`, options);
  }
}

export class ImageNotFoundError extends AgentError {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super('image_not_found', `No image file at ${path}. Check the image name, or import the image first.`, options);
  }
}

export class ImageExistsError extends AgentError {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      'image_exists',
      `An image already exists at ${path}. Choose another name, or remove the existing image first.`,
      options,
    );
  }
}

export class CorruptImageError extends AgentError {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('corrupt_image', `Image ${path} is corrupt: ${reason}. Re-import it from a good copy.`, options);
  }
}

export class UnsupportedMethodError extends AgentError {
  constructor(
    readonly method: string,
    readonly supported: string[],
    options?: { cause?: unknown },
  ) {
    super(
      'unsupported_method',
      `Clone method ${JSON.stringify(method)} is not supported by this repository. Use one of: ${supported.join(', ')}.`,
      options,
    );
  }
}

/** A linked clone cannot become a master on storage that cannot flatten it. */
export class UnsupportedCaptureError extends AgentError {
  constructor(readonly kind: string) {
    super('unsupported_capture', `${kind} storage cannot flatten a linked clone`);
  }
}

export class DiskFullError extends AgentError {
  constructor(
    readonly repoPath: string,
    readonly neededBytes: number,
    readonly freeBytes: number,
    options?: { cause?: unknown },
  ) {
    super(
      'disk_full',
      `Repository ${repoPath} has ${freeBytes} bytes free but ${neededBytes} are needed. ` +
        'Free space in the repository (remove unused clones) or use another repository.',
      options,
    );
  }
}

export class OperationAbortedError extends AgentError {
  constructor(
    readonly operation: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      'aborted',
      `${operation} of ${path} was aborted and its partial output removed. Start it again if still wanted.`,
      options,
    );
  }
}

/** A qcow2 image whose backing file does not resolve from where it is to be. */
export class UnreachableBackingError extends AgentError {
  constructor(
    readonly path: string,
    readonly backing: string,
    options?: { cause?: unknown },
  ) {
    super(
      'backing_unreachable',
      `Image ${path} reads through to ${backing}, which does not resolve from there. ` +
        'Name the master it reads through to, so the copy is rebased onto it, or move the image where its backing file resolves.',
      options,
    );
  }
}
