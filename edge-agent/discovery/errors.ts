/**
 * Why one seed could not be asked. Each becomes that seed's `seedReport.error` ({code, message}),
 * never the task's failure; each message names the seed's address and what to check. None holds a
 * secret: user names appear, passwords never (and the task redacts every resolved value anyway).
 */
import { AgentError } from '../errors';

export class SeedAddressError extends AgentError {
  constructor(kind: string, address: string, expected: string) {
    super('seed_address_invalid', `The ${kind} seed address "${address}" is not ${expected}: give ${expected}.`);
  }
}

export class SeedCredentialsMissingError extends AgentError {
  constructor(kind: string, address: string, keys: readonly string[]) {
    super(
      'seed_credentials_missing',
      `The ${kind} seed ${address} has no credentials.${keys.join(' or credentials.')}: add a secret:// reference for it to the seed.`,
    );
  }
}

export class SeedSecretError extends AgentError {
  constructor(address: string, key: string, ref: string, options: { cause: unknown }) {
    super(
      'seed_secret_unavailable',
      `The credentials.${key} of seed ${address} (${ref}) could not be read: ${(options.cause as Error).message}`,
      options,
    );
  }
}

export class BmcUnreachableError extends AgentError {
  constructor(bmc: string, seconds: number, options?: { cause?: unknown }) {
    super(
      'bmc_unreachable',
      `Nothing answered IPMI at ${bmc} (no reply within ${seconds} s): check the seed's address and port, that IPMI over LAN is enabled on the BMC and that UDP reaches it from the agent's host.`,
      options,
    );
  }
}

export class BmcCredentialsRefusedError extends AgentError {
  constructor(bmc: string, user: string, what: 'password' | 'user', options?: { cause?: unknown }) {
    super(
      'bmc_credentials_refused',
      what === 'user'
        ? `The BMC at ${bmc} does not know the user ${user}: check the seed's credentials.user.`
        : `The BMC at ${bmc} refused the user ${user} (wrong password): check the seed's credentials.`,
      options,
    );
  }
}

export class BmcSessionError extends AgentError {
  constructor(bmc: string, user: string, detail: string, options?: { cause?: unknown }) {
    super(
      'bmc_session_failed',
      `No IPMI session could be opened with the BMC at ${bmc} as ${user} (ipmitool: ${detail}): check the seed's credentials and that the BMC offers IPMI v2 (lanplus) with cipher suite 3.`,
      options,
    );
  }
}

export class RedfishSeedUnreachableError extends AgentError {
  constructor(url: string, why: string, options?: { cause?: unknown }) {
    super(
      'redfish_unreachable',
      `The Redfish service at ${url} did not answer (${why}): check the seed's address (host[:port] for https, or an http(s):// URL), the network path and its certificate (NODE_EXTRA_CA_CERTS for a private CA).`,
      options,
    );
  }
}

export class RedfishSeedRefusedError extends AgentError {
  constructor(origin: string, user: string, status: number) {
    super(
      'redfish_credentials_refused',
      `The Redfish service at ${origin} refused the user ${user} (HTTP ${status}): check the seed's credentials and that the account may read the systems.`,
    );
  }
}

export class RedfishSeedRequestError extends AgentError {
  constructor(method: string, url: string, status: number, detail: string) {
    super(
      'redfish_request_failed',
      `${method} ${url} failed with HTTP ${status}: ${detail || 'no detail'}. The service may not offer what discovery reads (/redfish/v1/Systems and its members): check its log.`,
    );
  }
}

export class LibvirtSeedError extends AgentError {
  constructor(uri: string, command: string, detail: string, options?: { cause?: unknown }) {
    super(
      'libvirt_failed',
      `virsh ${command} on ${uri} failed: ${detail}. Check the seed's URI, that libvirtd runs there and that the agent may connect (for qemu+ssh://, the agent's SSH key and known_hosts).`,
      options,
    );
  }
}

export class SeedRepositoryMissingError extends AgentError {
  constructor(address: string) {
    super(
      'seed_repository_missing',
      `The storage seed ${address} came without its repository: the functions add it to the task; upgrade the functions to match this agent.`,
    );
  }
}

export class TooManyObservedError extends AgentError {
  constructor(kept: number, seen: number, limit: number) {
    super(
      'too_many_observed',
      `The seed reported ${seen} machines or volumes but only ${kept} fit in this discovery (at most ${limit} of each in all); the rest were left out: split the seeds over several discoveries.`,
    );
  }
}

export class SeedFailedError extends AgentError {
  constructor(kind: string, address: string, options: { cause: unknown }) {
    super(
      'seed_failed',
      `Asking the ${kind} seed ${address} failed: ${(options.cause as Error)?.message ?? String(options.cause)}. Check the seed and the agent's log.`,
      options,
    );
  }
}
