/**
 * `POST /v1/exports`: a snapshot of masters (with their whole lineage), and optionally their clones,
 * the clones' customization documents and the site's machines (never their credentials), written by
 * the site's agent as a bundle (statemachines/bundle.ts) into S3 or a folder of a file repository.
 */
import { BUNDLE_FORMAT, BUNDLE_VERSION, CREDENTIALS_NOTE, MANIFEST } from '../../statemachines/bundle';
import type { TaskInput } from '../../statemachines/tasks';
import { accept } from '../actions/accept';
import { agentsOf } from '../actions/agents';
import { repoRef } from '../actions/views';
import type { Principal } from '../auth/principal';
import { clonesOf, type Deps } from '../deps';
import { checkRepositoryPath } from '../domain/paths';
import { BundleRepositoryError, NoAgentError, NotExportableError } from '../errors';
import { newId } from '../store/ids';
import type { Clone, Master, Repository } from '../store/records';
import { type ExportRecord, exportsOf, s3Prefix } from './records';
import type { CreateExport } from './schemas';

type BundleObjectInput = TaskInput<'bundle_write'>['objects'][number];

/** The masters asked for, every ancestor, and every lower version of each name: an import then needs nothing else. */
async function lineage(deps: Deps, refs: string[]): Promise<Master[]> {
  const found = new Map<string, Master>();
  const queue = await Promise.all(refs.map((r) => deps.masters.require(r)));
  while (queue.length) {
    const m = queue.pop()!;
    if (found.has(m.id)) continue;
    if (m.status !== 'ready')
      throw new NotExportableError(`master ${m.name} v${m.version} is still being imported; wait for it to end`);
    found.set(m.id, m);
    if (m.parent) queue.push(await deps.masters.require(m.parent));
    for (let v = 1; v < m.version; v++) {
      const lower = await deps.masters.find(`${m.name}@${v}`);
      if (lower) queue.push(lower);
    }
  }
  // Oldest first: every parent before its children.
  return [...found.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

async function repositoryOf(deps: Deps, cache: Map<string, Repository>, id: string) {
  let r = cache.get(id);
  if (!r) {
    r = await deps.repositories.require(id);
    cache.set(id, r);
  }
  return r;
}

function masterEntry(m: Master, repo: Repository, ids: Set<string>): BundleObjectInput['entry'] {
  return {
    kind: 'master',
    id: m.id,
    path: `images/masters/${m.id}.img`,
    name: m.name,
    version: m.version,
    ...(m.parent && ids.has(m.parent) ? { parent: m.parent } : {}),
    repository: repo.name,
    profile: m.profile,
    requirements: m.requirements,
    customization: m.customization,
  };
}

async function cloneObjects(
  deps: Deps,
  masters: Master[],
  repos: Map<string, Repository>,
  withDocs: boolean,
  notes: string[],
) {
  const out: BundleObjectInput[] = [];
  for (const m of masters)
    for (const c of await deps.clones.children(clonesOf(m.id))) {
      if (c.status !== 'ready') continue;
      if (c.method === 'overlay') {
        notes.push(
          `clone ${c.name} is linked (overlay) to its master's file and is not exported; clone it with another method to export it`,
        );
        continue;
      }
      const repo = await repositoryOf(deps, repos, c.repository);
      const machine = c.machine ? await deps.machines.get(c.machine) : undefined;
      const doc = withDocs ? `metadata/customizations/${c.id}.json` : undefined;
      out.push({ entry: cloneEntry(c, repo, machine?.name, doc), source: { repository: repoRef(repo), path: c.path } });
      if (doc)
        out.push({
          entry: { kind: 'metadata', id: `${c.id}-customization`, path: doc, of: 'customization' },
          content: JSON.stringify(await deps.customizations.of(c)),
        });
    }
  return out;
}

function cloneEntry(c: Clone, repo: Repository, machine: string | undefined, doc: string | undefined) {
  return {
    kind: 'clone',
    id: c.id,
    path: `images/clones/${c.id}.img`,
    name: c.name,
    master: c.master,
    repository: repo.name,
    ...(c.method ? { method: c.method } : {}),
    metastate: c.metastate,
    ...(machine ? { machine } : {}),
    template: c.template,
    applied: c.customization.applied,
    ...(doc ? { customization: doc } : {}),
  };
}

/** The machines of the exported clones as a bundle carries them: the names of their credential fields, never the values. */
async function machinesDocument(deps: Deps, ids: string[]) {
  const machines = (await Promise.all([...new Set(ids)].map((id) => deps.machines.get(id)))).filter(
    (m) => m !== undefined,
  );
  return JSON.stringify({
    machines: machines.map((m) => ({
      name: m.name,
      kind: m.kind,
      arch: m.arch,
      cpus: m.cpus,
      memoryMiB: m.memoryMiB,
      identity: m.identity,
      settings: m.settings,
      ...(m.tags ? { tags: m.tags } : {}),
      credentialsNeeded: Object.keys(m.credentials ?? {}),
    })),
  });
}

async function destination(deps: Deps, id: string, body: CreateExport, site: string, paths: string[]) {
  if (!body.to) {
    const prefix = s3Prefix(id);
    const urls = Object.fromEntries(
      await Promise.all([...paths, MANIFEST].map(async (p) => [p, await deps.presigner.put(`${prefix}${p}`, 3600)])),
    );
    return { to: { s3: prefix }, loc: { kind: 's3' as const, urls } };
  }
  const repo = await deps.repositories.require(body.to.repository);
  if (repo.kind !== 'file') throw new BundleRepositoryError(repo.name, `it is of kind ${repo.kind}`);
  if (repo.site !== site)
    throw new BundleRepositoryError(repo.name, `it is on site ${repo.site}, the images on ${site}`);
  await deps.repositories.requireReady(repo, 'a bundle');
  const path = checkRepositoryPath(body.to.path);
  return { to: { repository: repo.id, path }, loc: { kind: 'file' as const, repository: repoRef(repo), path } };
}

export async function createExportAction(deps: Deps, p: Principal | undefined, body: CreateExport) {
  const masters = await lineage(deps, body.masters);
  const repos = new Map<string, Repository>();
  const ids = new Set(masters.map((m) => m.id));
  const objects: BundleObjectInput[] = [];
  for (const m of masters) {
    const repo = await repositoryOf(deps, repos, m.repository);
    objects.push({ entry: masterEntry(m, repo, ids), source: { repository: repoRef(repo), path: m.path } });
  }
  const notes: string[] = [];
  if (body.include.clones)
    objects.push(...(await cloneObjects(deps, masters, repos, body.include.customization, notes)));
  const sites = new Set([...repos.values()].map((r) => r.site));
  if (sites.size > 1)
    throw new NotExportableError(
      `the images are on sites ${[...sites].join(', ')}; export the masters of each site on its own`,
    );
  const site = [...sites][0]!;
  const siteRecord = await deps.sites.find(site);
  if (!siteRecord || !agentsOf(siteRecord).length)
    throw new NoAgentError([...repos.values()][0]!.name, site, Boolean(siteRecord));
  const bound = (
    await Promise.all(objects.filter((o) => o.entry.kind === 'clone').map((o) => deps.clones.get(o.entry.id)))
  ).flatMap((c) => (c?.machine ? [c.machine] : []));
  if (body.include.machines)
    objects.push({
      entry: { kind: 'metadata', id: 'machines', path: 'metadata/machines.json', of: 'machines' },
      content: await machinesDocument(deps, bound),
    });
  const id = newId('export');
  const { to, loc } = await destination(
    deps,
    id,
    body,
    site,
    objects.map((o) => o.entry.path),
  );
  const now = deps.now();
  const record: Omit<ExportRecord, 'operation'> = {
    id,
    name: id,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    status: 'running',
    site,
    masters: masters.map((m) => m.id),
    include: body.include,
    to,
    notes,
  };
  const header = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    export: id,
    exportedAt: now,
    site: { name: siteRecord.name },
    algorithm: 'sha256' as const,
    credentials: CREDENTIALS_NOTE,
  };
  const accepted = await accept(
    deps,
    p,
    {
      workflow: 'transfer',
      kind: 'export',
      resource: { kind: 'export', id, name: id },
      site,
      request: { export: id },
      firstStep: 'write',
      input: { action: 'export', input: { destination: loc, header, objects } },
    },
    (op) => exportsOf(deps).createWrites({ ...record, operation: op.id }),
  );
  return { id, ...accepted };
}
