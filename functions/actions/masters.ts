/** Masters: import from a repository, read, edit the template and requirements, delete. */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import { clonesOf, type Deps, versionsOf } from '../deps';
import { invalidPatterns } from '../domain/customization';
import { checkRepositoryPath } from '../domain/paths';
import { type importMaster, masterFields } from '../domain/schemas';
import { InUseError, InvalidInputError, StaleRecordError } from '../errors';
import { applyMergePatch } from '../http/merge-patch';
import { TransactionConflict, type Write } from '../store/db';
import { newId } from '../store/ids';
import type { Master } from '../store/records';
import { revise } from '../store/resources';
import { accept } from './accept';
import { masterView, repoRef } from './views';

function checkItems(items: Master['customization'] | undefined) {
  const bad = invalidPatterns(items ?? []);
  if (bad.length)
    throw new InvalidInputError(`invalid regular expression: ${bad.join('; ')}; fix the pattern`, { problems: bad });
}

/** An upload the agent pulls into the repository before it inspects the image. */
export interface Pull {
  upload: string;
  key: string;
  url: string;
  sizeBytes: number;
  sha256?: string;
}

/**
 * Imports the image at `body.path`: pulled in first when `pull` says so; with `orphan`, an image a
 * repository check reported as an orphan, held (locked) until the import ends.
 */
export async function importMasterAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof importMaster>,
  pull?: { pull: Pull; writes: Write[]; operation?: string; master?: string },
  orphan = false,
) {
  const path = checkRepositoryPath(body.path);
  checkItems(body.customization);
  const repo = await deps.repositories.requireReady(body.repository, orphan ? 'an adoption' : 'an import');
  const now = deps.now();
  const master: Master = {
    id: pull?.master ?? newId('master'),
    name: body.name,
    version: 1,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    status: 'importing',
    repository: repo.id,
    path,
    profile: body.profile ?? {},
    requirements: body.requirements ?? {},
    customization: body.customization ?? [],
  };
  return accept(
    deps,
    p,
    {
      workflow: 'import',
      kind: 'import',
      resource: { kind: 'master', id: master.id, name: master.name },
      site: repo.site,
      request: {
        repository: repo.id,
        path,
        ...(pull ? { upload: pull.pull.upload, key: pull.pull.key } : {}),
        ...(orphan ? { orphan: true } : {}),
      },
      firstStep: pull ? 'pull' : 'inspect',
      ...(pull?.operation ? { id: pull.operation } : {}),
      input: {
        input: {
          repository: repoRef(repo),
          path,
          ...(body.format ? { format: body.format } : {}),
          ...(pull ? { pull: pull.pull } : {}),
        },
      },
    },
    (op) => [
      ...deps.masters.createWrites({ ...master, operation: op.id }),
      ...(pull?.writes ?? []),
      ...(orphan ? [deps.checks.lockWrite(repo.id, path, op.id)] : []),
    ],
    (writes) => deps.masters.transactNamed(writes, master.name, 1),
  );
}

export async function getMaster(deps: Deps, ref: string) {
  return masterView(deps, await deps.masters.require(ref));
}

/** PATCH: a JSON merge patch of the profile, the requirements and the template items; the rest is the server's. */
export async function patchMasterAction(deps: Deps, ref: string, patch: Record<string, unknown>) {
  const m = await deps.masters.require(ref);
  const editable = Object.keys(masterFields.shape);
  const fixed = Object.fromEntries(
    Object.keys(m)
      .filter((k) => !editable.includes(k))
      .map((k) => [
        k,
        'is set by the server (import, clone, capture); only profile, requirements and customization change',
      ]),
  );
  const { profile, requirements, customization } = m;
  const next = applyMergePatch(
    { kind: 'master', schema: masterFields, fixed },
    { ...m },
    { profile, requirements, customization },
    patch,
  );
  const updated = revise(m, next, deps.now());
  await deps.masters.save(updated);
  await deps.catalog.putMaster(updated);
  return masterView(deps, updated);
}

export async function deleteMaster(deps: Deps, ref: string) {
  const m = await deps.masters.require(ref);
  const [clones, versions] = await Promise.all([
    deps.clones.children(clonesOf(m.id)),
    deps.masters.children(versionsOf(m.id)),
  ]);
  const live = clones.filter((c) => c.status !== 'destroyed' && c.status !== 'captured');
  if (live.length || versions.length)
    throw new InUseError(
      `master ${m.name} v${m.version} still has ${live.length} live clone(s) and ${versions.length} child version(s); destroy or capture them first`,
      { clones: live.map((c) => c.id), children: versions.map((v) => v.id) },
    );
  if (m.status !== 'ready')
    throw new InUseError(`master ${m.name} is still being imported; wait for the import to end`);
  try {
    await deps.db.transact(await deps.masters.removeWrites(m));
  } catch (e) {
    // A capture, a patch or another delete of this master's name wrote first.
    if (e instanceof TransactionConflict) throw new StaleRecordError('master', `${m.name}@${m.version}`);
    throw e;
  }
  await deps.catalog.deleteMaster(m);
  return { deleted: m.id };
}
