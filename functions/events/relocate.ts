/**
 * relocate moves a clone's image to another repository of its site. The agent copies it there and
 * verifies the copy; the commit switches the record (repository, path, facts) in one write; then the
 * workflow removes the old image (statemachines/tasks.ts releaseTasks). State, customization and
 * lineage stay as they are. A linked clone goes only where it still reads through to its master: it
 * is never flattened on the way.
 */
import { z } from 'zod';
import type { ImageRef } from '../../statemachines/tasks';
import { repoRef } from '../actions/views';
import type { Deps } from '../deps';
import { ref } from '../domain/schemas';
import { BackingUnreachableError, InvalidInputError } from '../errors';
import type { Clone, Repository } from '../store/records';
import type { EventEntry } from './entry';

/** Where an image is: a repository id and a path in it. */
export interface ImageAt {
  repository: string;
  path: string;
}

/** What the operation keeps: the image's place before and after. */
export interface RelocatePlan {
  from: ImageAt;
  to: ImageAt;
}

const relocateBody = z.object({ repository: ref }).strict();

/** A linked clone reads through to its master (a qcow2 overlay); a standalone one holds its whole disk. */
const isLinked = (c: Clone) => c.format === 'qcow2' || c.backing !== undefined;

/**
 * The repository `targetRef` names, if the clone's image may move there from `from`: another
 * repository of the same site, and for a linked clone one whose images can read through to its
 * master. Refuses with a 4xx that says why and what to do instead.
 */
export async function relocationTarget(
  deps: Deps,
  clone: Clone,
  from: Repository,
  targetRef: string,
): Promise<{ target: Repository; backing?: ImageRef }> {
  const target = await deps.repositories.require(targetRef);
  if (target.id === from.id)
    throw new InvalidInputError(`clone ${clone.name} is in repository ${target.name} already; name another repository`);
  if (target.site !== from.site)
    throw new InvalidInputError(
      `repository ${target.name} is on site ${target.site}, clone ${clone.name} on site ${from.site}; an image moves within its site (export/import moves masters between sites)`,
    );
  await deps.repositories.requireReady(target, `clone ${clone.name}'s image`);
  if (!isLinked(clone)) return { target };
  const master = await deps.masters.require(clone.master);
  const masterRepo = await deps.repositories.require(master.repository);
  // A file repository's images are files on the agent's host, and a copy there reads through to the
  // master by its path; an iSCSI target serves each image as a raw LUN, which reads through to nothing.
  if (target.kind !== 'file' || masterRepo.site !== target.site)
    throw new BackingUnreachableError(clone.name, master.name, target.name, target.kind, target.site);
  return { target, backing: { repository: repoRef(masterRepo), path: master.path, format: master.format ?? 'raw' } };
}

export const relocate: EventEntry<'relocate', RelocatePlan, z.infer<typeof relocateBody>> = {
  body: relocateBody,
  async accept({ deps, clone, repo, image }, body) {
    const { target, backing } = await relocationTarget(deps, clone, repo, body.repository);
    // The same path in the other repository: its extension still names the image's format.
    const to = { repository: target.id, path: clone.path };
    return {
      request: { from: { repository: repo.id, path: clone.path }, to },
      input: {
        source: image,
        target: { repository: repoRef(target), path: to.path, format: image.format },
        ...(backing ? { backing } : {}),
      },
    };
  },
  commit({ clone, request }, outcome) {
    const facts = {
      sizeBytes: outcome.sizeBytes,
      allocatedBytes: outcome.allocatedBytes,
      sha256: outcome.sha256,
      format: outcome.format,
    };
    return {
      changes: { repository: request.to.repository, path: outcome.path, ...facts },
      result: { clone: clone.id, from: request.from, to: { ...request.to, path: outcome.path }, ...facts },
    };
  },
};
