/** Typed failures of the local stack. Each carries a snake_case `code` and, in `details`, the data a caller needs. */
import { CodedError } from '../../functions/errors';

/** Marks a failure of the local stack; code, status, details and `cause` come from `CodedError`. */
export class LocalStackError extends CodedError {}

/** The child exited (or could not be spawned) before its readiness probe succeeded. */
export class ChildStartError extends LocalStackError {
  override readonly code = 'child_start_failed';
  constructor(
    readonly child: string,
    readonly exitCode: number | null,
    readonly logFile: string,
    readonly logTail: string,
    options?: ErrorOptions,
  ) {
    super(
      `${child} stopped before it was ready (exit code ${exitCode ?? 'none, killed by a signal'}). ` +
        `Read ${logFile} for the reason; its last lines:\n${logTail}`,
      { child, exitCode, logFile, logTail },
      options,
    );
  }
}

/** The child kept running but its readiness probe never succeeded in time; it has been stopped. */
export class ChildReadyTimeoutError extends LocalStackError {
  override readonly code = 'child_ready_timeout';
  constructor(
    readonly child: string,
    readonly timeoutMs: number,
    readonly logFile: string,
    readonly logTail: string,
    options?: ErrorOptions,
  ) {
    super(
      `${child} was not ready after ${timeoutMs} ms and has been stopped. ` +
        `Read ${logFile} for the reason (a busy port or a slow host; raise readyTimeoutMs for the latter); ` +
        `its last lines:\n${logTail}`,
      { child, timeoutMs, logFile, logTail },
      options,
    );
  }
}

/** An npm package the local stack runs from is not installed or lacks the expected file. */
export class PackageFileMissingError extends LocalStackError {
  override readonly code = 'package_file_missing';
  constructor(
    readonly packageName: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(
      `Cannot find ${file} of npm package ${packageName}. Run \`npm ci\` in the repository root to install it.`,
      { packageName, file },
      options,
    );
  }
}

/** The operating system handed out no free port. */
export class NoFreePortError extends LocalStackError {
  override readonly code = 'no_free_port';
  constructor(
    readonly host: string,
    options?: ErrorOptions,
  ) {
    super(
      `Could not get a free TCP port on ${host}. Check that ${host} is a local address of this host.`,
      { host },
      options,
    );
  }
}

/** The API's port is taken by another program: found before anything is started. */
export class PortBusyError extends LocalStackError {
  override readonly code = 'port_busy';
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(
      `Port ${port} on ${host} is in use by another program (\`ss -ltnp 'sport = :${port}'\` shows which). ` +
        `Stop it, or start on another port: ENCOMPASS_PORT=${port === 8787 ? 8788 : 8787} npm start`,
      { host, port },
      options,
    );
  }
}

/** Host tools the local stack needs are not installed. */
export class PrerequisitesMissingError extends LocalStackError {
  override readonly code = 'prerequisites_missing';
  constructor(
    readonly missing: string[],
    message: string,
  ) {
    super(message, { missing });
  }
}

/** A part of the stack was asked for while it is stopped (not while it restarts: callers wait for that). */
export class ChildNotRunningError extends LocalStackError {
  override readonly code = 'child_not_running';
  constructor(
    readonly child: string,
    options?: ErrorOptions,
  ) {
    super(`${child} is stopped. Start the stack (or that part of it) again before using it.`, { child }, options);
  }
}

/** Another stack holds the home: two would run two databases on one file and two agents on one state. */
export class StackAlreadyRunningError extends LocalStackError {
  override readonly code = 'stack_already_running';
  constructor(
    readonly home: string,
    readonly pid: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `Another ENCOMPASS stack (${pid ? `PID ${pid}` : 'PID unknown'}) is running on ${home}. ` +
        `Stop it first (Ctrl-C in its terminal${pid ? `, or kill ${pid}` : ''}), or give this one another home with ENCOMPASS_HOME.`,
      { home, pid },
      options,
    );
  }
}

/** A process left by a stack that was killed could not be stopped, so the home cannot be taken over. */
export class LeftoverProcessError extends LocalStackError {
  override readonly code = 'leftover_process';
  constructor(
    readonly home: string,
    readonly child: string,
    readonly pid: number,
  ) {
    super(
      `${child} (PID ${pid}), left running on ${home} by a stack that was killed, survived SIGTERM and SIGKILL. ` +
        `Stop it by hand (kill -9 ${pid}; check it is not in uninterruptible sleep, state D, in /proc/${pid}/stat), then start again.`,
      { home, child, pid },
    );
  }
}

/** A unix socket path under the home longer than the kernel's sun_path allows. */
export class SocketPathTooLongError extends LocalStackError {
  override readonly code = 'socket_path_too_long';
  constructor(readonly path: string) {
    super(
      `The socket path ${path} is longer than the 107 bytes a unix socket allows. Set ENCOMPASS_HOME to a shorter directory.`,
      { path },
    );
  }
}
