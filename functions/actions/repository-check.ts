/**
 * Repository checks: the agent sees that a repository's root is usable (its `status`,
 * store/repositories.ts) and compares what it holds with the records (operations of kind `check`,
 * see claims.ts), and an operator removes (`remove_orphan`) or adopts (an import) what no record names.
 */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { checkRepositoryPath } from '../domain/paths';
import type { adoptOrphan, createRepository } from '../domain/schemas';
import {
  BusyError,
  InvalidInputError,
  InvalidPathError,
  NoAgentError,
  NotAnOrphanError,
  OrphanNotFoundError,
} from '../errors';
import { untilEnded } from '../operations/wait';
import { TransactionConflict } from '../store/db';
import type { Repository } from '../store/records';
import { checkStarted, newRepository } from '../store/repositories';
import { type AcceptSpec, accept } from './accept';
import { base } from './admin';
import { agentsOf, NoAgentOnHostError } from './agents';
import { type Claims, claimant, claimsOf } from './claims';
import { importMasterAction } from './masters';
import { repoRef } from './views';

/** The repository's site must exist and have an agent that has reported, or nobody would do the work. */
async function requireAgent(deps: Deps, repo: Repository): Promise<void> {
  const site = await deps.sites.find(repo.site);
  if (!site || !agentsOf(site).length) throw new NoAgentError(repo.name, repo.site, Boolean(site));
}

/** A check of `repo`: of its root only (`reach`), or of its contents against `claims` too. */
function checkSpec(repo: Repository, claims?: Claims): AcceptSpec {
  return {
    workflow: 'repository',
    kind: 'check',
    resource: { kind: 'repository', id: repo.id, name: repo.name },
    site: repo.site,
    request: { repository: repo.id, scope: claims ? 'contents' : 'reach' },
    firstStep: 'reach',
    input: {
      action: 'check',
      input: {
        repository: repoRef(repo),
        scope: claims ? 'contents' : 'reach',
        known: [...(claims?.known.keys() ?? [])],
        pending: [...(claims?.pending.keys() ?? [])],
      },
    },
  };
}

/**
 * `POST /v1/repositories`: the repository is `checking` until its site's agent found its root usable
 * (a check of scope `reach`, accepted with the record in one transaction). With no agent to do it
 * yet, it waits (`reason`) for the check an agent's start makes. `wait` answers once the check ended.
 */
export async function createRepositoryAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof createRepository>,
  wait?: number,
) {
  const site = await deps.sites.require(body.site);
  const now = deps.now();
  const repo: Repository = { ...base('repository', body.name, now), ...body, site: site.name, status: 'checking' };
  try {
    await requireAgent(deps, repo);
    const { operation } = await accept(
      deps,
      p,
      checkSpec(repo),
      (op) => deps.repositories.createWrites(newRepository(repo, { operation: op.id })),
      (all) => deps.repositories.transactNamed(all, repo.name, 1),
    );
    return untilChecked(deps, newRepository(repo, { operation }), wait);
  } catch (e) {
    if (!(e instanceof NoAgentError || e instanceof NoAgentOnHostError)) throw e;
    const message = `not checked yet: ${e.message.replace(/, then retry$/, '')}; its start checks the repository`;
    return deps.repositories.create(newRepository(repo, { reason: { code: e.code, message, at: now } }));
  }
}

/** `GET /v1/repositories/{id}`; with `wait` (seconds), once its check in hand ended or the time is up. */
export async function getRepository(deps: Deps, ref: string, wait?: number) {
  return untilChecked(deps, await deps.repositories.require(ref), wait);
}

async function untilChecked(deps: Deps, repo: Repository, wait: number | undefined): Promise<Repository> {
  if (!wait || repo.status !== 'checking' || !repo.operation) return repo;
  const op = await deps.operations.get(repo.operation);
  if (op) await untilEnded(deps.operations, deps.endings, op, wait);
  return (await deps.repositories.get(repo.id)) ?? repo;
}

/**
 * `POST /v1/repositories/{id}/check`, and what an agent's start asks for each repository of its site:
 * its root, then its contents. One that is not `ready` is `checking` again until it ends.
 */
export async function checkRepositoryAction(deps: Deps, p: Principal | undefined, ref: string) {
  for (let attempt = 1; ; attempt++) {
    const repo = await deps.repositories.require(ref);
    await requireAgent(deps, repo);
    try {
      return await accept(deps, p, checkSpec(repo, await claimsOf(deps, repo)), (op) => [
        deps.repositories.saveWrite(checkStarted(repo, op.id, op.createdAt)),
      ]);
    } catch (e) {
      // Two checks accepted at once (an agent's start and an operator's): the second reads the record again.
      if (!(e instanceof TransactionConflict) || attempt >= 3) throw e;
    }
  }
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
