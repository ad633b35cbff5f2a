/**
 * `POST /v1/imports`: a bundle replicated onto a site. The site's agent checks every object of the
 * bundle against its manifest first; only then is the import planned (plan.ts), its images copied and
 * its records written at once (commit.ts). An S3 bundle's manifest is read here already, so a bundle
 * that is not one is a 400 before anything starts.
 */
import { MANIFEST, readManifest } from '../../statemachines/bundle';
import type { BundleLocation } from '../../statemachines/tasks';
import { accept } from '../actions/accept';
import { agentsOf } from '../actions/agents';
import { repoRef } from '../actions/views';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { checkRepositoryPath } from '../domain/paths';
import {
  BundleInvalidError,
  BundleNotFoundError,
  BundleRepositoryError,
  InvalidInputError,
  NoAgentError,
} from '../errors';
import { looksLikeId, newId } from '../store/ids';
import { type ImportRecord, importsOf, s3Prefix } from './records';
import type { CreateImport } from './schemas';

/** `{s3}` names an export by id, or a key: the bundle's prefix or its manifest's key. */
function s3Key(ref: string): string {
  if (looksLikeId('export', ref)) return s3Prefix(ref);
  const prefix = ref.replace(/manifest\.json$/, '');
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

async function location(deps: Deps, body: CreateImport, site: string) {
  if ('s3' in body.bundle) {
    const prefix = s3Key(body.bundle.s3);
    const text = await deps.catalog.getText(`${prefix}${MANIFEST}`);
    if (text === undefined) throw new BundleNotFoundError(`s3://${prefix}`);
    const read = readManifest(text);
    if (!read.ok) throw new BundleInvalidError(`s3://${prefix}`, read.problems);
    const paths = [MANIFEST, ...read.value.objects.map((o) => o.path)];
    const urls = Object.fromEntries(
      await Promise.all(paths.map(async (p) => [p, await deps.presigner.get(`${prefix}${p}`, 3600)])),
    );
    return { bundle: { s3: prefix }, loc: { kind: 's3', urls } satisfies BundleLocation };
  }
  const repo = await deps.repositories.require(body.bundle.repository);
  if (repo.kind !== 'file') throw new BundleRepositoryError(repo.name, `it is of kind ${repo.kind}`);
  if (repo.site !== site)
    throw new BundleRepositoryError(repo.name, `it is on site ${repo.site}, the import goes to ${site}`);
  await deps.repositories.requireReady(repo, 'a bundle import');
  const path = checkRepositoryPath(body.bundle.path);
  return {
    bundle: { repository: repo.id, path },
    loc: { kind: 'file', repository: repoRef(repo), path } satisfies BundleLocation,
  };
}

/** Every rebinding target must exist now, on the site; what the bundle lacks a target for is the plan's to tell. */
async function checkRebinding(deps: Deps, body: CreateImport, site: string) {
  const problems: string[] = [];
  for (const [from, to] of Object.entries(body.rebinding.repositories)) {
    const r = await deps.repositories.find(to);
    if (!r) problems.push(`body.rebinding.repositories.${from}: no repository "${to}"`);
    else if (r.site !== site)
      problems.push(`body.rebinding.repositories.${from}: ${to} is on site ${r.site}, not ${site}`);
    else if (r.kind !== 'file') problems.push(`body.rebinding.repositories.${from}: ${to} is not a file repository`);
  }
  for (const [from, to] of Object.entries(body.rebinding.machines)) {
    const m = await deps.machines.find(to);
    if (!m) problems.push(`body.rebinding.machines.${from}: no machine "${to}"`);
    else if (m.site !== site) problems.push(`body.rebinding.machines.${from}: ${to} is on site ${m.site}, not ${site}`);
  }
  for (const [from, to] of Object.entries(body.rebinding.sites))
    if (!(await deps.sites.find(to))) problems.push(`body.rebinding.sites.${from}: no site "${to}"`);
  if (problems.length)
    throw new InvalidInputError(`invalid rebinding: ${problems.join('; ')}; give targets that exist on the site`, {
      problems,
    });
}

export async function createImportAction(deps: Deps, p: Principal | undefined, body: CreateImport) {
  const site = await deps.sites.require(body.site);
  if (!agentsOf(site).length) throw new NoAgentError('of the import', site.name, true);
  await checkRebinding(deps, body, site.name);
  const { bundle, loc } = await location(deps, body, site.name);
  const id = newId('import');
  const now = deps.now();
  const record: Omit<ImportRecord, 'operation'> = {
    id,
    name: id,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    status: 'running',
    site: site.name,
    bundle,
    dryRun: body.dryRun,
    onConflict: body.onConflict,
    rebinding: body.rebinding,
  };
  const accepted = await accept(
    deps,
    p,
    {
      workflow: 'transfer',
      kind: 'bundle_import',
      resource: { kind: 'import', id, name: id },
      site: site.name,
      request: { import: id },
      firstStep: 'verify',
      input: { action: 'import', input: { bundle: loc } },
    },
    (op) => importsOf(deps).createWrites({ ...record, operation: op.id }),
  );
  return { id, ...accepted };
}
