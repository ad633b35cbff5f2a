/** Clones: make one from a master; read them. Lifecycle events live in events.ts. */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import type { createClone } from '../domain/schemas';
import { ConflictError, InvalidInputError } from '../errors';
import { newId } from '../store/ids';
import type { Clone } from '../store/records';
import { accept } from './accept';

/** Methods the control plane knows; the agent says which of them a repository really supports. */
const methodsByKind: Record<string, string[]> = { file: ['copy'], iscsi: [] };

export async function createCloneAction(deps: Deps, p: Principal | undefined, body: z.infer<typeof createClone>) {
  const master = await deps.masters.require(body.master);
  if (master.status !== 'ready') throw new ConflictError(`master ${master.name} is still being imported; wait for its import operation to end`);
  const repo = await deps.repositories.require(body.repository ?? master.repository);
  const masterRepo = await deps.repositories.require(master.repository);
  if (repo.site !== masterRepo.site)
    throw new InvalidInputError(`repository ${repo.name} is on site ${repo.site} but the master is on site ${masterRepo.site}; clone within one site (export/import moves masters between sites)`);
  const supported = methodsByKind[repo.kind] ?? [];
  const method = body.method === 'auto' ? supported[0] : body.method;
  if (!method || !supported.includes(method))
    throw new InvalidInputError(
      `clone method "${body.method}" is not available on ${repo.kind} repository ${repo.name}; use one of: ${supported.join(', ') || 'none yet'}`,
      { method: body.method, supported },
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
    path: `clones/${body.name}.${master.format === 'qcow2' ? 'qcow2' : 'img'}`,
    metastate: 'clean',
    binding: 'unassigned',
    customization: { items: [], variables: {}, applied: 0, changes: [] },
    template: master.customization,
    bootCount: 0,
  };
  return accept(
    deps,
    p,
    {
      workflow: 'clone',
      kind: 'clone',
      resource: { kind: 'clone', id: clone.id, name: clone.name },
      site: repo.site,
      request: { master: master.id, method },
      firstStep: 'copy',
      input: {
        input: {
          source: { repository: { id: masterRepo.id, kind: masterRepo.kind, path: masterRepo.path }, path: master.path },
          target: { repository: { id: repo.id, kind: repo.kind, path: repo.path }, path: clone.path },
          method,
          sha256: master.sha256,
        },
      },
    },
    (op) => deps.clones.createWrites({ ...clone, lock: op.id }),
    (writes) => deps.clones.transactNamed(writes, clone.name, 1),
  );
}
