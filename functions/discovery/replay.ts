/**
 * Replaying the queue: the observations of a site's open conflicts reconciled again, as they were
 * stored, with the site's settings as they are now and the records as they are now. Nothing is asked
 * of the seeds (no agent takes part: the operation ends in the request), so rules and records changed
 * since can be tried on what was seen. What decides now is matched or made new, and its conflict
 * cleared; what still does not decide stays in the queue.
 */
import type { DiscoverOutcome, MachineObservation } from '../../statemachines/discovery';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { commit } from '../operations/end';
import type { Site } from '../store/records';
import { NothingToReplayError } from './errors';
import type { StoredSeed } from './seeds';
import { startDiscovery } from './start';

export async function replayDiscovery(deps: Deps, p: Principal | undefined, site: Site, dryRun: boolean) {
  const open = (await deps.discoveries.conflicts()).filter(
    (c) => c.site === site.name && c.status === 'open' && c.observation && c.seed,
  );
  if (!open.length) throw new NothingToReplayError(site.name);
  const seeds: StoredSeed[] = open.map((c) => c.seed!);
  const machines: MachineObservation[] = open.map((c, i) => ({ ...c.observation!, seed: i }));
  const outcome: DiscoverOutcome = {
    machines,
    volumes: [],
    seeds: seeds.map((s, i) => ({ seed: i, kind: s.kind, address: s.address, seconds: 0, machines: 1, volumes: 0 })),
  };
  return startDiscovery(deps, p, site, seeds, {
    dryRun,
    scheduled: false,
    replay: async (op) => {
      await commit(deps, op.id, outcome);
    },
  });
}
