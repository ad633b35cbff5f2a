/** Typed failures of the IPMI machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { MachineError } from '../errors';

export class IpmiError extends MachineError {}

export class IpmiSettingsError extends IpmiError {
  constructor(
    readonly machineId: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(
      'invalid_settings',
      `Machine ${machineId}: ${key} ${problem}. Fix the machine's IPMI settings (host, port, user, consoleLog, bootMarker, …) and try again.`,
    );
  }
}

export class IpmiCredentialsMissingError extends IpmiError {
  constructor(readonly machineId: string) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no BMC password. Set the machine's credentials.password (write-only) so the agent can sign in as settings.user.`,
    );
  }
}

export class IpmitoolMissingError extends IpmiError {
  constructor(options?: { cause?: unknown }) {
    super(
      'ipmitool_missing',
      'ipmitool is not installed on the agent host, so no BMC can be reached. Install it (apt-get install ipmitool) and try again.',
      options,
    );
  }
}

export class IpmiCommandError extends IpmiError {
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

export class PowerNotConfirmedError extends IpmiError {
  constructor(
    readonly machineId: string,
    readonly wanted: 'on' | 'off',
    readonly waitedSeconds: number,
  ) {
    super(
      'power_not_confirmed',
      `The BMC of machine ${machineId} did not report power ${wanted} within ${waitedSeconds} s. Check the BMC's event log (ipmitool sel list) and the chassis, then try again.`,
    );
  }
}

function hintFor(stderr: string): string {
  if (/Unable to establish|session/i.test(stderr)) {
    return "Check the BMC's address and port (settings.host, settings.port), that IPMI over LAN is enabled and reachable, and the user name and password.";
  }
  return 'Check that the BMC supports this command and is not busy, then try again.';
}
