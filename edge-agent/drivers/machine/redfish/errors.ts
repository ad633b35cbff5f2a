/** Typed failures of the Redfish machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad Redfish setting's message tells the operator to fix. */
export const REDFISH_SETTINGS = "the machine's Redfish settings (endpoint, systemId, bootTarget, …)";

/** What to check when the BMC does not confirm a power state. */
export const REDFISH_POWER_HINT: PowerHint = {
  check: "Check the system's log in the BMC and the chassis, then try again.",
};

export class RedfishCredentialsMissingError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly missing: string[],
  ) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no ${missing.join(' or ')} for its BMC. Set the machine's credentials (write-only: username, password) and try again.`,
    );
  }
}

export class RedfishUnreachableError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as Error | undefined)?.cause ?? options?.cause;
    super(
      'redfish_unreachable',
      `The Redfish service of machine ${machineId} at ${url} did not answer (${(why as Error | undefined)?.message ?? 'no reason given'}). Check settings.endpoint, the network path to the BMC and its certificate (NODE_EXTRA_CA_CERTS for a private CA).`,
      options,
    );
  }
}

export class RedfishUnauthorizedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    readonly status: number,
  ) {
    super(
      'redfish_unauthorized',
      `The BMC of machine ${machineId} refused the credentials (HTTP ${status} for ${url}). Check credentials.username and credentials.password and that the account may power the system.`,
    );
  }
}

export class RedfishRequestError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(
      'redfish_request_failed',
      `${method} ${url} for machine ${machineId} failed with HTTP ${status}: ${detail || 'no detail'}. Check the BMC's log; the request may not suit this BMC's Redfish version.`,
    );
  }
}

export class RedfishSystemNotFoundError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly endpoint: string,
    readonly candidates: string[],
  ) {
    super(
      'redfish_system_not_found',
      `No system at ${endpoint} matches machine ${machineId} (its systems: ${candidates.join(', ') || 'none'}). Set settings.systemId, or the machine's identity (uuid, serial or macs) to one of them.`,
    );
  }
}
