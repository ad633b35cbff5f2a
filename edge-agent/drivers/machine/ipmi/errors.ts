/** Typed failures of the IPMI machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad IPMI setting's message tells the operator to fix. */
export const IPMI_SETTINGS = "the machine's IPMI settings (host, port, user, consoleLog, bootMarker, …)";

/** What to check when the BMC does not confirm a power state. */
export const IPMI_POWER_HINT: PowerHint = {
  check: "Check the BMC's event log (ipmitool sel list) and the chassis, then try again.",
};

export class IpmiCredentialsMissingError extends AgentError {
  constructor(readonly machineId: string) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no BMC password. Set the machine's credentials.password (write-only) so the agent can sign in as settings.user.`,
    );
  }
}

export class IpmitoolMissingError extends AgentError {
  constructor(options?: { cause?: unknown }) {
    super(
      'ipmitool_missing',
      'ipmitool is not installed on the agent host, so no BMC can be reached. Install it (apt-get install ipmitool) and try again.',
      options,
    );
  }
}

export class IpmiCommandError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly command: string,
    readonly bmc: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ipmi_command_failed',
      `ipmitool ${command} for machine ${machineId} at ${bmc} failed: ${stderr || 'no output'}. ${hintFor(stderr)}`,
      options,
    );
  }
}

function hintFor(stderr: string): string {
  if (/Unable to establish|session/i.test(stderr)) {
    return "Check the BMC's address and port (settings.host, settings.port), that IPMI over LAN is enabled and reachable, and the user name and password.";
  }
  return 'Check that the BMC supports this command and is not busy, then try again.';
}
