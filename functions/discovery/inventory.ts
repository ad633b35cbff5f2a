/**
 * The volume side of the inventory: what the last discovery saw in each repository, kept in S3 as one
 * snapshot per repository (`inventory/<site>/volumes/<repository>.json`). Its digests let the next run
 * hash only what changed; machine snapshots live on the machine records (`inventory`).
 */
import type { VolumeObservation } from '../../statemachines/discovery';
import type { Deps } from '../deps';

export interface VolumeSnapshot {
  repository: string;
  discovery: string;
  at: string;
  volumes: VolumeObservation[];
}

const keyOf = (site: string, repository: string) => `inventory/${site}/volumes/${repository}.json`;

export function readVolumes(deps: Deps, site: string, repository: string): Promise<VolumeSnapshot | undefined> {
  return deps.catalog.getJson<VolumeSnapshot>(keyOf(site, repository));
}

export async function writeVolumes(deps: Deps, site: string, snapshot: VolumeSnapshot): Promise<void> {
  await deps.catalog.putText(keyOf(site, snapshot.repository), JSON.stringify(snapshot));
}

/**
 * At most this many digests travel in a discovery's workflow input (about 200 bytes each, well inside
 * its 256 KiB); the volumes beyond are hashed again.
 */
export const MAX_DIGESTS = 800;

/** The digests the last snapshots of these repositories hold, for the agent to reuse. */
export async function volumeDigests(deps: Deps, site: string, repositories: string[]) {
  const snapshots = await Promise.all(repositories.map((r) => readVolumes(deps, site, r)));
  const all = snapshots.flatMap((s) =>
    (s?.volumes ?? []).flatMap((v) =>
      v.sha256
        ? [
            {
              repository: v.repository,
              path: v.path,
              sizeBytes: v.sizeBytes,
              modifiedAt: v.modifiedAt,
              sha256: v.sha256,
            },
          ]
        : [],
    ),
  );
  return all.slice(0, MAX_DIGESTS);
}
