/** The refusals of discovery, the conflict queue and adoption. */
import { ConflictError, InvalidInputError, NotFoundError } from '../errors';

export class SiteHasNoAgentError extends ConflictError {
  override readonly code = 'no_agent';
  constructor(site: string) {
    super(
      `no edge agent of site "${site}" has ever reported, so nobody can ask its seeds; start the site's agent (with an agent token of that site), then retry`,
      { site },
    );
  }
}

export class DiscoveryRunningError extends ConflictError {
  override readonly code = 'discovery_running';
  constructor(site: string, operation: string | undefined) {
    super(
      `site ${site} is being discovered by operation ${operation ?? '(unknown)'}; a site runs one discovery at a time: wait for it (GET /v1/operations/${operation ?? ''}) and retry`,
      { site, operation },
    );
  }
}

export class SeedRepositoryError extends InvalidInputError {
  override readonly code = 'invalid_seed';
  constructor(index: number, address: string, site: string, other?: string) {
    const problem = other
      ? `repository "${address}" belongs to site ${other}, not ${site}: a discovery asks its own site's repositories`
      : `no repository "${address}": a storage seed's address is a repository of site ${site} (GET /v1/repositories)`;
    super(`body.seeds.${index}.address: ${problem}`, { problems: [`body.seeds.${index}.address: ${problem}`] });
  }
}

export class NoSeedsError extends InvalidInputError {
  override readonly code = 'no_seeds';
  constructor(site: string) {
    super(
      `site ${site} has no discovery seeds; give them with PUT /v1/sites/${site}/discovery {seeds, everyMinutes} or POST /v1/discoveries {site, seeds}`,
      { site },
    );
  }
}

export class ConflictNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super('conflict', ref);
  }
}

export class ConflictResolvedError extends ConflictError {
  override readonly code = 'conflict_resolved';
  constructor(id: string, resolution: { action: string; candidate?: string }) {
    super(
      `conflict ${id} was resolved already (${resolution.action}${resolution.candidate ? ` with ${resolution.candidate}` : ''}); a resolution is not changed: sending the same one again is harmless`,
      { id, resolution },
    );
  }
}

export class ResolutionInvalidError extends InvalidInputError {
  override readonly code = 'invalid_resolution';
  constructor(message: string) {
    super(message, { problems: [message] });
  }
}

export class MachineNotDiscoveredError extends ConflictError {
  override readonly code = 'not_discovered';
  constructor(machine: string, state: string) {
    super(`machine ${machine} is ${state}, not discovered: only a machine a discovery found is adopted`, {
      machine,
      state,
    });
  }
}

export class MachineNotAdoptedError extends ConflictError {
  override readonly code = 'machine_not_adopted';
  constructor(machine: string) {
    super(
      `machine ${machine} was found by a discovery and is not adopted yet: nothing is deployed to it until an operator adopts it (POST /v1/machines/${machine}/adopt)`,
      { machine },
    );
  }
}

export class MachineMissingError extends ConflictError {
  override readonly code = 'machine_missing';
  constructor(machine: string, since: string | undefined) {
    super(
      `machine ${machine} is missing: discoveries have not found it${since ? ` since ${since}` : ''}; find out where it went, run a discovery that sees it, or resolve its conflict`,
      { machine, since },
    );
  }
}

export class NothingToReplayError extends ConflictError {
  override readonly code = 'nothing_to_replay';
  constructor(site: string) {
    super(
      `site ${site} has no open conflicts to reconcile again; run a discovery (POST /v1/discoveries) to ask its seeds`,
      { site },
    );
  }
}
