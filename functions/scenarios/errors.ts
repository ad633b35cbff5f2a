/** The refusals of the scenarios (deployments) and of the machine states they use. */
import { ConflictError, InvalidInputError } from '../errors';

export class MachineQuarantinedError extends ConflictError {
  override readonly code = 'machine_quarantined';
  constructor(machine: string, why: string) {
    super(
      `machine ${machine} is quarantined (${why}); see what failed on it, then release it with POST /v1/machines/${machine}/release`,
      { machine },
    );
  }
}

export class MachineReservedError extends ConflictError {
  override readonly code = 'machine_reserved';
  constructor(machine: string, deployment: string) {
    super(
      `machine ${machine} is reserved by deployment ${deployment}; wait for it to end (GET /v1/deployments/${deployment}) or pick another machine`,
      { machine, deployment },
    );
  }
}

export class NotEnoughMachinesError extends ConflictError {
  override readonly code = 'not_enough_machines';
  constructor(wanted: number, free: number, matched: number, detail: string) {
    super(
      `the deployment needs ${wanted} machine(s) but only ${free} of the ${matched} that match ${detail} are free (ready, carrying no clone); nothing was reserved: free or add machines, or ask for fewer`,
      { wanted, free, matched },
    );
  }
}

export class ClientTokenReusedError extends ConflictError {
  override readonly code = 'client_token_reused';
  constructor(token: string, deployment: string) {
    super(
      `clientToken "${token}" was used for deployment ${deployment} with a different body; send that body again to get it, or use a new token`,
      { clientToken: token, deployment },
    );
  }
}

export class DeploymentRunningError extends ConflictError {
  override readonly code = 'deployment_running';
  constructor(deployment: string, operation: string) {
    super(`deployment ${deployment} is running (operation ${operation}); wait for it to end, then delete it`, {
      deployment,
      operation,
    });
  }
}

export class MachineNotQuarantinedError extends ConflictError {
  override readonly code = 'not_quarantined';
  constructor(machine: string, state: string) {
    super(`machine ${machine} is ${state}, not quarantined; only a quarantined machine is released`, {
      machine,
      state,
    });
  }
}

export class TooManyMembersError extends InvalidInputError {
  constructor(asked: number, max: number) {
    super(`a deployment has at most ${max} members, this one ${asked}; split it into several deployments`, {
      asked,
      max,
    });
  }
}

export class NoSharedRepositoryError extends ConflictError {
  override readonly code = 'no_shared_repository';
  constructor(site: string, members: number, fanout: number) {
    super(
      `a tree of ${members} clones with fanout ${fanout} needs relays, which live in a shared repository (one without a host) so that every agent reads them, but site ${site} has none; create one, raise the fanout, or leave "fanout" out`,
      { site, members, fanout },
    );
  }
}

export class TreeTooNarrowError extends ConflictError {
  override readonly code = 'tree_too_narrow';
  constructor(repository: string, limit: number) {
    super(
      `repository ${repository} allows ${limit} clone(s) per source (limits.clonesPerSource), so its relays cannot fan out and the tree never reaches every member; raise the limit to 2 or more, or leave "fanout" out`,
      { repository, limit },
    );
  }
}

export class RelayInUseError extends ConflictError {
  override readonly code = 'relay_in_use';
  constructor(clone: string, deployment: string) {
    super(
      `clone ${clone} is a relay of deployment ${deployment}, whose clones are copied from it; it is removed when the deployment's phase ends (GET /v1/deployments/${deployment})`,
      { clone, deployment },
    );
  }
}
