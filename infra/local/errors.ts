/** Typed failures of the local stack. Each carries a snake_case `code` and the data a caller needs. */

export class LocalStackError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The child exited (or could not be spawned) before its readiness probe succeeded. */
export class ChildStartError extends LocalStackError {
  constructor(
    readonly child: string,
    readonly exitCode: number | null,
    readonly logFile: string,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'child_start_failed',
      `${child} stopped before it was ready (exit code ${exitCode ?? 'none, killed by a signal'}). ` +
        `Read ${logFile} for the reason; its last lines:\n${logTail}`,
      options,
    );
  }
}

/** The child kept running but its readiness probe never succeeded in time; it has been stopped. */
export class ChildReadyTimeoutError extends LocalStackError {
  constructor(
    readonly child: string,
    readonly timeoutMs: number,
    readonly logFile: string,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'child_ready_timeout',
      `${child} was not ready after ${timeoutMs} ms and has been stopped. ` +
        `Read ${logFile} for the reason (a busy port or a slow host; raise readyTimeoutMs for the latter); ` +
        `its last lines:\n${logTail}`,
      options,
    );
  }
}

/** An npm package the local stack runs from is not installed or lacks the expected file. */
export class PackageFileMissingError extends LocalStackError {
  constructor(
    readonly packageName: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(
      'package_file_missing',
      `Cannot find ${file} of npm package ${packageName}. Run \`npm ci\` in the repository root to install it.`,
      options,
    );
  }
}

/** The operating system handed out no free port. */
export class NoFreePortError extends LocalStackError {
  constructor(
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(
      'no_free_port',
      `Could not get a free TCP port on ${host}. Check that ${host} is a local address of this host.`,
      options,
    );
  }
}

/** Host tools the local stack needs are not installed. */
export class PrerequisitesMissingError extends LocalStackError {
  constructor(
    readonly missing: string[],
    message: string,
  ) {
    super('prerequisites_missing', message);
  }
}
