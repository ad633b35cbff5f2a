/** Typed failures of the BladeCenter machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad BladeCenter setting's message tells the operator to fix. */
export const BLADECENTER_SETTINGS =
  "the machine's BladeCenter settings (amm, slot, via, snmpVersion, sshHostKey, bootDevice, …)";

/** What to check when the AMM does not confirm a power state. */
export const BLADECENTER_POWER_HINT: PowerHint = {
  check: "Check the AMM's event log and the blade's power permission in its slot, then try again.",
};

export class BladeCenterCredentialsMissingError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly needed: string,
  ) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no ${needed} for its BladeCenter AMM. Set the machine's credentials (write-only) and try again.`,
    );
  }
}

/**
 * The AMM did not answer in time. `check` says what to look at for the wire and credentials used:
 * an SNMP agent stays silent for a wrong community, and an SNMPv3 agent for a request it cannot decrypt.
 */
export class AmmUnreachableError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly amm: string,
    readonly seconds: number,
    readonly check: string,
    options?: { cause?: unknown },
  ) {
    super(
      'amm_unreachable',
      `The BladeCenter AMM at ${amm} gave machine ${machineId} no answer within ${seconds} s. ${check}`,
      options,
    );
  }
}

/** The AMM refused the request; `check` names the credentials or settings to look at. */
export class AmmRefusedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly amm: string,
    readonly detail: string,
    readonly check = 'Check the credentials (an SNMP community or SNMPv3 user with write access, or the CLI user) and try again.',
    options?: { cause?: unknown },
  ) {
    super(
      'amm_refused',
      `The BladeCenter AMM at ${amm} refused machine ${machineId}'s request: ${detail}. ${check}`,
      options,
    );
  }
}

export class AmmRequestError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly amm: string,
    readonly what: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'amm_request_failed',
      `The BladeCenter AMM at ${amm} could not ${what} for machine ${machineId}: ${detail}. Check the AMM's firmware level and event log.`,
      options,
    );
  }
}

export class BladeNotPresentError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly amm: string,
    readonly slot: number,
  ) {
    super(
      'blade_not_present',
      `Slot ${slot} of the BladeCenter chassis at ${amm} holds no blade, so machine ${machineId} cannot be driven. Check settings.slot (discover the chassis to see its blades).`,
    );
  }
}

export class AmmHostKeyError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly amm: string,
    readonly expected: string,
    readonly offered: string,
  ) {
    super(
      'amm_host_key_mismatch',
      `The SSH host key of the AMM at ${amm} is ${offered}, not settings.sshHostKey ${expected}, so machine ${machineId}'s password was not sent. Check that the address is the AMM's, then update settings.sshHostKey.`,
    );
  }
}
