/**
 * Starting a discovery: `POST /v1/discoveries`, `POST /v1/sites/{id}/discovery/run`, and a site's
 * schedule. The seeds' credentials are in the secret store before anything else is written; the
 * discovery record, its operation, the site's lock and the audit entry are one transaction; the
 * agent does the asking (the `machine` workflow's `discover` action) and the commit reconciles.
 */
import { z } from 'zod';
import { accept } from '../actions/accept';
import { agentsOf } from '../actions/agents';
import { repoRef } from '../actions/views';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { ref } from '../domain/schemas';
import { TransactionConflict } from '../store/db';
import type { Discovery } from '../store/discoveries';
import { newId } from '../store/ids';
import type { Operation, Site } from '../store/records';
import { DiscoveryRunningError, NoSeedsError, SeedRepositoryError, SiteHasNoAgentError } from './errors';
import { volumeDigests } from './inventory';
import { replayDiscovery } from './replay';
import { type StoredSeed, seedsBody, storeSeeds } from './seeds';

export const createDiscovery = z
  .object({
    site: ref,
    /** Left out: the seeds of the site's discovery settings (PUT /v1/sites/{id}/discovery). */
    seeds: seedsBody.optional(),
    /** Ask and reconcile, write nothing: the operation's result is the diff. */
    dryRun: z.boolean().default(false),
    /** Ask nothing: reconcile the open conflicts' observations again, with the settings and records as they are now. */
    replay: z.boolean().default(false),
  })
  .strict()
  .refine((b) => !(b.replay && b.seeds), { message: 'a replay asks no seeds: leave seeds out', path: ['seeds'] });

export async function createDiscoveryAction(
  deps: Deps,
  p: Principal | undefined,
  body: z.infer<typeof createDiscovery>,
) {
  const site = await deps.sites.require(body.site);
  if (body.replay) return replayDiscovery(deps, p, site, body.dryRun);
  // Refused before a credential is stored: a request that fails changes nothing.
  if (body.seeds) {
    if (!agentsOf(site).length) throw new SiteHasNoAgentError(site.name);
    await taskSeeds(deps, site, body.seeds);
  }
  const seeds = body.seeds
    ? await storeSeeds(deps, site.name, body.seeds, site.discovery?.seeds)
    : (site.discovery?.seeds ?? []);
  return startDiscovery(deps, p, site, seeds, { dryRun: body.dryRun, scheduled: false });
}

/** The task's seeds: a storage seed carries its repository (of this site), the others their credential references. */
type TaskSeed = StoredSeed & { repository?: ReturnType<typeof repoRef> };

async function taskSeeds(deps: Deps, site: Site, seeds: readonly StoredSeed[]): Promise<TaskSeed[]> {
  return Promise.all(
    seeds.map(async (seed, i): Promise<TaskSeed> => {
      if (seed.kind !== 'storage') return seed;
      const repo = await deps.repositories.find(seed.address);
      if (!repo || repo.site !== site.name)
        throw new SeedRepositoryError(
          i,
          seed.address,
          site.name,
          repo && repo.site !== site.name ? repo.site : undefined,
        );
      return { kind: seed.kind, address: repo.id, repository: repoRef(repo) };
    }),
  );
}

export async function startDiscovery(
  deps: Deps,
  p: Principal | undefined,
  site: Site,
  seeds: StoredSeed[],
  opts: { dryRun: boolean; scheduled: boolean; replay?: (op: Operation) => Promise<void> },
) {
  if (!seeds.length) throw new NoSeedsError(site.name);
  if (!agentsOf(site).length && !opts.replay) throw new SiteHasNoAgentError(site.name);
  const input = await taskSeeds(deps, site, seeds);
  const storage = input.flatMap((s) => (s.repository ? [s.repository.id] : []));
  const digests = await volumeDigests(deps, site.name, storage);
  const id = newId('discovery');
  const now = deps.now();
  const request = {
    discovery: id,
    dryRun: opts.dryRun,
    scheduled: opts.scheduled,
    ...(opts.replay ? { replay: true } : {}),
    /** With the references of their credentials: a machine found through a seed keeps using them. */
    seeds: input.map(({ repository: _, ...s }) => s),
  };
  try {
    const accepted = await accept(
      deps,
      p,
      {
        workflow: 'machine',
        kind: 'discovery',
        resource: { kind: 'discovery', id, name: id },
        site: site.name,
        request,
        firstStep: 'discover',
        input: { action: 'discover', input: { seeds: input, digests, hash: true } },
        ...(opts.replay ? { inline: opts.replay } : {}),
      },
      (op) => {
        const record: Discovery = {
          id,
          site: site.name,
          seeds: request.seeds.map((s) => ({ kind: s.kind, address: s.address })),
          dryRun: opts.dryRun,
          scheduled: opts.scheduled,
          operation: op.id,
          status: 'running',
          actor: op.actor,
          createdAt: now,
          updatedAt: now,
          rev: 1,
        };
        return [deps.discoveries.lockWrite(site.name, op.id), deps.discoveries.newWrite(record)];
      },
    );
    return { id, ...accepted };
  } catch (e) {
    if (e instanceof TransactionConflict && e.failed.includes(0))
      throw new DiscoveryRunningError(site.name, await deps.discoveries.lockHolder(site.name));
    throw e;
  }
}
