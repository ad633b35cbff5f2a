/**
 * A site's discovery settings: the seeds to ask, how often, and how evidence is weighed. Locally the
 * stack calls `runDueDiscoveries` every half minute; in AWS an EventBridge schedule does (entry/lambda.ts).
 * A site whose discovery is still running when it is due again waits for the next tick.
 */
import { z } from 'zod';
import { MAX_SEEDS } from '../../statemachines/discovery';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { StaleRecordError } from '../errors';
import type { Site, SiteDiscovery } from '../store/records';
import { revise } from '../store/resources';
import { DiscoveryRunningError } from './errors';
import { seedBody, storeSeeds } from './seeds';
import { discoverySettings, settingsOf } from './settings';
import { startDiscovery } from './start';

/** What the EventBridge schedule sends the functions (infra/aws/functions.ts): start the due discoveries. */
export const DISCOVERY_SCHEDULE_EVENT = { encompass: 'discovery-schedules' } as const;

export const isDiscoveryScheduleEvent = (event: unknown) =>
  typeof event === 'object' &&
  event !== null &&
  (event as { encompass?: unknown }).encompass === DISCOVERY_SCHEDULE_EVENT.encompass;

export const putSiteDiscovery = z
  .object({
    /** The seeds to ask ([] forgets them); left out, the stored ones stay. */
    seeds: z.array(seedBody).max(MAX_SEEDS).optional(),
    /** How often the site is discovered; 0 (the default) runs it only when asked. */
    everyMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(0),
    settings: discoverySettings.optional(),
  })
  .strict();

export function siteDiscoveryView(site: Site) {
  const d = site.discovery;
  return {
    site: site.name,
    seeds: (d?.seeds ?? []).map((s) => ({
      kind: s.kind,
      address: s.address,
      credentials: Object.fromEntries(Object.keys(s.credentials ?? {}).map((k) => [k, '(set)'])),
    })),
    everyMinutes: d?.everyMinutes ?? 0,
    settings: settingsOf(d?.settings),
    ...(d?.nextRunAt ? { nextRunAt: d.nextRunAt } : {}),
    ...(d?.lastRun ? { lastRun: d.lastRun } : {}),
  };
}

const later = (now: string, minutes: number) => new Date(Date.parse(now) + minutes * 60_000).toISOString();

export async function putSiteDiscoveryAction(deps: Deps, ref: string, body: z.infer<typeof putSiteDiscovery>) {
  const site = await deps.sites.require(ref);
  const seeds = body.seeds
    ? await storeSeeds(deps, site.name, body.seeds, site.discovery?.seeds)
    : (site.discovery?.seeds ?? []);
  const now = deps.now();
  const everyMinutes = body.everyMinutes ?? site.discovery?.everyMinutes ?? 0;
  const discovery: SiteDiscovery = {
    seeds,
    everyMinutes,
    // Left out, the stored settings stay; `{}` goes back to the defaults.
    ...(body.settings
      ? { settings: body.settings }
      : site.discovery?.settings
        ? { settings: site.discovery.settings }
        : {}),
    ...(everyMinutes && seeds.length
      ? { nextRunAt: body.everyMinutes === undefined && site.discovery?.nextRunAt ? site.discovery.nextRunAt : now }
      : {}),
    ...(site.discovery?.lastRun ? { lastRun: site.discovery.lastRun } : {}),
  };
  const next = revise<Site>(site, { discovery }, now);
  await deps.sites.save(next);
  return siteDiscoveryView(next);
}

export async function runSiteDiscoveryAction(deps: Deps, p: Principal | undefined, ref: string, dryRun: boolean) {
  const site = await deps.sites.require(ref);
  return startDiscovery(deps, p, site, site.discovery?.seeds ?? [], { dryRun, scheduled: false });
}

/** Starts the discovery of every site that is due; a site is claimed by moving its next run first. */
export async function runDueDiscoveries(deps: Deps) {
  const now = deps.now();
  const started: string[] = [];
  const skipped: { site: string; reason: string }[] = [];
  for (const site of await deps.sites.listAll()) {
    const d = site.discovery;
    if (!d?.everyMinutes || !d.seeds.length || (d.nextRunAt && d.nextRunAt > now)) continue;
    const claimed = revise<Site>(site, { discovery: { ...d, nextRunAt: later(now, d.everyMinutes) } }, now);
    try {
      await deps.sites.save(claimed);
    } catch (e) {
      if (e instanceof StaleRecordError) continue; // another tick claimed it
      throw e;
    }
    try {
      const { id } = await startDiscovery(deps, undefined, claimed, d.seeds, { dryRun: false, scheduled: true });
      started.push(id);
      const fresh = await deps.sites.get(site.id);
      if (fresh?.discovery)
        await deps.sites
          .save(revise<Site>(fresh, { discovery: { ...fresh.discovery, lastRun: { discovery: id, at: now } } }, now))
          .catch(() => undefined);
    } catch (e) {
      // Due again at the next run: a busy site is not lost, only late.
      skipped.push({ site: site.name, reason: e instanceof DiscoveryRunningError ? 'running' : (e as Error).message });
    }
  }
  return { started, skipped };
}
