/** Typed failures of the Intel AMT machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad AMT setting's message tells the operator to fix. */
export const AMT_SETTINGS = "the machine's AMT settings (host, port, tls, bootDevice, …)";

export const AMT_POWER_HINT: PowerHint = {
  check: "Check the machine's AMT event log (and that AMT is provisioned with power control), then try again.",
};

export class AmtCredentialsMissingError extends AgentError {
  constructor(readonly machineId: string) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no AMT password. Set the machine's credentials.password (write-only), and credentials.user unless it is admin.`,
    );
  }
}

export class AmtUnreachableError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as Error | undefined)?.cause ?? options?.cause;
    super(
      'amt_unreachable',
      `The AMT service of machine ${machineId} at ${url} did not answer (${(why as Error | undefined)?.message ?? 'no reason given'}). Check settings.host and settings.port (16992, or 16993 with tls), and that AMT is provisioned and reachable from the agent's host.`,
      options,
    );
  }
}

export class AmtUnauthorizedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    readonly user: string,
  ) {
    super(
      'amt_unauthorized',
      `The AMT service of machine ${machineId} at ${url} refused user ${user} (HTTP 401 after digest authentication). Check credentials.user and credentials.password.`,
    );
  }
}

export class AmtRequestError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    readonly what: string,
    readonly detail: string,
  ) {
    super(
      'amt_request_failed',
      `AMT at ${url} could not ${what} for machine ${machineId}: ${detail}. Check the AMT version and its event log; the request may not suit this firmware.`,
    );
  }
}
