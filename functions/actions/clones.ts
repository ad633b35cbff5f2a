/** Clones: make one from a master (or a relay of a deployment's tree); read them. Lifecycle events live in events/. */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import type { createClone } from '../domain/schemas';
import { ConflictError, InvalidInputError } from '../errors';
import { newId } from '../store/ids';
import type { Clone } from '../store/records';
import { accept, type Parent } from './accept';
import { repoRef } from './views';

/** A ready master and the repository its clones go to (its own unless named), which must be on the master's site. */
export async function cloneSource(deps: Deps, masterRef: string, repositoryRef?: string) {
  const master = await deps.masters.require(masterRef);
  if (master.status !== 'ready')
    throw new ConflictError(`master ${master.name} is still being imported; wait for its import operation to end`);
  // One read when the clone stays in the master's repository (the usual case), two at once otherwise.
  const [masterRepo, named] = await Promise.all([
    deps.repositories.require(master.repository),
    repositoryRef === undefined ? undefined : deps.repositories.require(repositoryRef),
  ]);
  const repo = named ?? masterRepo;
  if (repo.site !== masterRepo.site)
    throw new InvalidInputError(
      `repository ${repo.name} is on site ${repo.site} but the master is on site ${masterRepo.site}; clone within one site (export/import moves masters between sites)`,
    );
  await deps.repositories.requireReady(masterRepo, `a clone of master ${master.name}`);
  await deps.repositories.requireReady(repo, 'a clone');
  return { master, repo, masterRepo };
}

/** Where a deployment's tree copies a clone from, instead of the master (scenarios/tree.ts). */
export interface CloneFrom {
  /** A ready relay of the same master: a byte-identical, uncustomized copy. Absent: the master. */
  source?: Clone;
  /** The clone is itself a relay of this deployment. */
  relayOf?: string;
}

export async function createCloneAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof createClone>,
  parent?: Parent,
  from?: CloneFrom,
) {
  const { master, repo, masterRepo } = await cloneSource(deps, body.master, body.repository);
  const source = from?.source;
  if (source && (source.status !== 'ready' || source.master !== master.id || !source.relayOf))
    throw new ConflictError(
      `clone ${source.name} is not a ready relay of master ${master.name}; clones are copied from their master or from a relay of a deployment's tree`,
    );
  const sourceRepo = source ? await deps.repositories.requireReady(source.repository, 'a clone') : masterRepo;
  // The agent knows what the repository can do: `auto` becomes the fastest method it supports.
  const method = body.method;
  if (repo.id !== sourceRepo.id && (method === 'overlay' || method === 'reflink'))
    throw new InvalidInputError(
      `a ${method} clone shares blocks with its source, so it must be in the source's repository (${sourceRepo.name}); use copy, sparse, san or auto across repositories`,
    );
  if (source && method === 'overlay')
    throw new InvalidInputError(
      `an overlay of relay ${source.name} would read through it after its deployment removes it; use reflink, copy, sparse or auto`,
    );
  const now = deps.now();
  const clone: Clone = {
    id: newId('clone'),
    name: body.name,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    status: 'creating',
    master: master.id,
    repository: repo.id,
    // The agent adds the extension of the format its method makes (.img raw, .qcow2 overlay).
    path: `clones/${body.name}`,
    metastate: 'clean',
    binding: 'unassigned',
    customization: { applied: 0, changes: [] },
    template: master.customization,
    bootCount: 0,
    ...(from ? { lineage: source ? [...(source.lineage ?? [master.id]), source.id] : [master.id] } : {}),
    ...(from?.relayOf ? { relayOf: from.relayOf } : {}),
  };
  return accept(
    deps,
    p,
    {
      workflow: 'clone',
      kind: 'clone',
      resource: { kind: 'clone', id: clone.id, name: clone.name },
      site: repo.site,
      request: { master: master.id, method, ...(source ? { source: source.id } : {}) },
      firstStep: 'copy',
      parent,
      input: {
        input: {
          source: { repository: repoRef(sourceRepo), path: source?.path ?? master.path },
          target: { repository: repoRef(repo), path: clone.path },
          method,
          // A relay is the master's bytes: the copy is checked against the master's sha256.
          sha256: master.sha256,
        },
      },
    },
    (op) => deps.clones.createWrites({ ...clone, lock: op.id }),
    (writes) => deps.clones.transactNamed(writes, clone.name, 1),
  );
}
