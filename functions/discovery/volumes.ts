/**
 * The storage side of a discovery's diff: per repository a storage seed listed, images no record
 * names (`orphans`), records whose image is gone (`ghosts`), and masters whose image is not what the
 * record says (`changed`: size or sha256). Nothing is deleted or adopted here: an operator does that
 * (DELETE or adopt an orphan, destroy a ghost's record).
 */
import type { DiscoverOutcome, VolumeObservation } from '../../statemachines/discovery';
import { claimant, claimsOf } from '../actions/claims';
import type { Deps } from '../deps';
import type { Master } from '../store/records';
import type { FieldChange } from './reconcile';

export interface VolumeDiff {
  orphans: VolumeObservation[];
  ghosts: { repository: string; kind: 'master' | 'clone'; id: string; name: string; path: string }[];
  changed: {
    volume: string;
    repository: string;
    path: string;
    kind: 'master' | 'clone';
    id: string;
    name: string;
    fields: FieldChange[];
  }[];
  /** The repositories listed, with what was seen in each (the snapshots to keep). */
  listed: { repository: string; volumes: VolumeObservation[] }[];
}

export async function volumeDiff(
  deps: Deps,
  outcome: DiscoverOutcome,
  seeds: readonly { kind: string; address: string }[],
): Promise<VolumeDiff> {
  const out: VolumeDiff = { orphans: [], ghosts: [], changed: [], listed: [] };
  const listed = outcome.seeds.filter((r) => r.kind === 'storage' && !r.error).map((r) => seeds[r.seed]!.address);
  if (!listed.length) return out;
  // Only a master's image must stay as recorded: a clone's changes whenever it is customized or booted.
  const masters = await deps.masters.listAll();
  const records = new Map<string, Master>(masters.map((r) => [`${r.repository}:${r.path}`, r]));
  for (const repository of new Set(listed)) {
    const repo = await deps.repositories.get(repository);
    if (!repo) continue;
    const claims = await claimsOf(deps, repo);
    const volumes = outcome.volumes.filter((v) => v.repository === repo.id);
    out.listed.push({ repository: repo.id, volumes });
    const seen = new Set(volumes.map((v) => v.path));
    out.orphans.push(...volumes.filter((v) => !claimant(claims, v.path)));
    for (const k of claims.known.values()) if (!seen.has(k.path)) out.ghosts.push({ repository: repo.id, ...k });
    for (const v of volumes) {
      const r = records.get(`${repo.id}:${v.path}`);
      const k = claims.known.get(v.path);
      if (!r || !k) continue;
      const fields: FieldChange[] = [];
      if (r.sizeBytes !== undefined && r.sizeBytes !== v.sizeBytes)
        fields.push({ field: 'sizeBytes', from: r.sizeBytes, to: v.sizeBytes });
      if (r.sha256 && v.sha256 && r.sha256 !== v.sha256) fields.push({ field: 'sha256', from: r.sha256, to: v.sha256 });
      if (fields.length) out.changed.push({ volume: `${repo.name}:${v.path}`, repository: repo.id, ...k, fields });
    }
  }
  return out;
}
