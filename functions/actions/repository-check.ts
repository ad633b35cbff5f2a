/**
 * Repository checks: the agent compares what a repository holds with the records (operations of kind
 * `check`, see claims.ts), and an operator removes (`remove_orphan`) or adopts (an import) what no
 * record names.
 */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { checkRepositoryPath } from '../domain/paths';
import type { adoptOrphan } from '../domain/schemas';
import {
  BusyError,
  InvalidInputError,
  InvalidPathError,
  NoAgentError,
  NotAnOrphanError,
  OrphanNotFoundError,
} from '../errors';
import { TransactionConflict } from '../store/db';
import type { Repository } from '../store/records';
import { accept } from './accept';
import { agentsOf } from './agents';
import { claimant, claimsOf } from './claims';
import { importMasterAction } from './masters';
import { repoRef } from './views';

/** The repository's site must exist and have an agent that has reported, or nobody would do the work. */
async function requireAgent(deps: Deps, repo: Repository): Promise<void> {
  const site = await deps.sites.find(repo.site);
  if (!site || !agentsOf(site).length) throw new NoAgentError(repo.name, repo.site, Boolean(site));
}

/** `POST /v1/repositories/{id}/check`, and what an agent's start asks for each repository of its site. */
export async function checkRepositoryAction(deps: Deps, p: Principal | undefined, ref: string) {
  const repo = await deps.repositories.require(ref);
  await requireAgent(deps, repo);
  const { known, pending } = await claimsOf(deps, repo);
  return accept(
    deps,
    p,
    {
      workflow: 'repository',
      kind: 'check',
      resource: { kind: 'repository', id: repo.id, name: repo.name },
      site: repo.site,
      request: { repository: repo.id },
      firstStep: 'cleanup',
      input: {
        action: 'check',
        input: { repository: repoRef(repo), known: [...known.keys()], pending: [...pending.keys()] },
      },
    },
    () => [],
  );
}

/** `GET /v1/repositories/{id}/orphans`: what the last check found. */
export async function listOrphans(deps: Deps, ref: string) {
  const repo = await deps.repositories.require(ref);
  const check = await deps.checks.get(repo.id);
  if (!check) return { repository: repo.id, checkedAt: null, items: [], missing: [], removed: [], truncated: false };
  const { orphans, id, ...rest } = check;
  return { repository: id, ...rest, items: orphans };
}

/** The orphan `name` (its path) of the repository, as the last check reported it and nothing claims it since. */
async function orphanOf(deps: Deps, ref: string, name: string) {
  const repo = await deps.repositories.require(ref);
  let path: string;
  try {
    path = checkRepositoryPath(name);
  } catch (e) {
    if (!(e instanceof InvalidPathError)) throw e;
    throw new InvalidInputError(e.message, { problems: [`path.name: ${e.message}`] });
  }
  await requireAgent(deps, repo);
  const check = await deps.checks.get(repo.id);
  if (!check?.orphans.some((o) => o.path === path)) throw new OrphanNotFoundError(repo.name, path);
  const by = claimant(await claimsOf(deps, repo), path);
  if (by) throw new NotAnOrphanError(repo.name, path, by);
  return { repo, path };
}

/** A second request for an orphan held by an operation: busy, naming that operation. */
async function heldOr<T>(deps: Deps, repo: Repository, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof TransactionConflict)) throw e;
    throw new BusyError('orphan', path, await deps.checks.lockHolder(repo.id, path));
  }
}

/** `DELETE /v1/repositories/{id}/orphans/{name}`: the agent removes the file (and its sidecar); audited. */
export async function removeOrphanAction(deps: Deps, p: Principal | undefined, ref: string, name: string) {
  const { repo, path } = await orphanOf(deps, ref, name);
  return heldOr(deps, repo, path, () =>
    accept(
      deps,
      p,
      {
        workflow: 'repository',
        kind: 'remove_orphan',
        resource: { kind: 'orphan', id: `${repo.id}:${path}`, name: path },
        site: repo.site,
        request: { repository: repo.id, path },
        firstStep: 'remove',
        input: { action: 'remove_orphan', input: { image: { repository: repoRef(repo), path } } },
      },
      (op) => [deps.checks.lockWrite(repo.id, path, op.id)],
    ),
  );
}

/** `POST /v1/repositories/{id}/orphans/{name}/adopt`: the file becomes a master where it is, as an import finds it. */
export async function adoptOrphanAction(
  deps: Deps,
  p: Principal | undefined,
  ref: string,
  name: string,
  body: z.infer<typeof adoptOrphan>,
) {
  const { repo, path } = await orphanOf(deps, ref, name);
  return heldOr(deps, repo, path, () =>
    importMasterAction(deps, p, { ...body, repository: repo.id, path }, undefined, true),
  );
}
