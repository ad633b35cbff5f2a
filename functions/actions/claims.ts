/**
 * What claims an image in a repository: a master or clone record (`known`: its image should be there),
 * or work in hand (`pending`: an import, a clone being made, a capture's new master, an orphan being
 * removed, both places of an image being relocated, the images a bundle import copies). An image
 * nothing claims is an orphan.
 */
import { isClaimed } from '../../statemachines/tasks';
import type { Deps } from '../deps';
import { captureTarget } from '../events/capture';
import type { RelocatePlan } from '../events/relocate';
import type { Repository } from '../store/records';
import type { MissingImage } from '../store/repository-checks';
import { importTargets } from '../transfer/claims';

export interface Claims {
  /** Images that records name, with the record naming each. */
  known: Map<string, MissingImage>;
  /** Images work in hand makes or removes, with the operation (a clone being made: its path without extension). */
  pending: Map<string, string>;
}

export async function claimsOf(deps: Deps, repo: Repository): Promise<Claims> {
  const [masters, clones, running] = await Promise.all([
    deps.masters.listAll(),
    deps.clones.listAll(),
    deps.operations.running(),
  ]);
  const known = new Map<string, MissingImage>();
  const pending = new Map<string, string>();
  for (const m of masters.filter((m) => m.repository === repo.id)) {
    if (m.status === 'ready') known.set(m.path, { kind: 'master', id: m.id, name: m.name, path: m.path });
    else pending.set(m.path, m.operation ?? 'import');
  }
  const byId = new Map(clones.map((c) => [c.id, c]));
  for (const c of clones.filter((c) => c.repository === repo.id)) {
    if (c.status === 'ready') known.set(c.path, { kind: 'clone', id: c.id, name: c.name, path: c.path });
    else if (c.status === 'creating') pending.set(c.path, c.lock ?? 'clone');
  }
  for (const op of running) {
    const clone = byId.get(op.resource.id);
    if (op.kind === 'capture' && clone?.repository === repo.id)
      pending.set(captureTarget(op.request as { name: string; version: number }), op.id);
    if (op.kind === 'remove_orphan' && op.request.repository === repo.id) pending.set(op.request.path as string, op.id);
    // The copy until the record names it, the old image until the release removed it.
    if (op.kind === 'relocate')
      for (const end of Object.values(op.request as unknown as RelocatePlan))
        if (end.repository === repo.id) pending.set(end.path, op.id);
    for (const path of await importTargets(deps, op, repo.id)) pending.set(path, op.id);
  }
  return { known, pending };
}

/** What claims the image at `path` now, in words, or undefined for an orphan. */
export function claimant(claims: Claims, path: string): string | undefined {
  const record = claims.known.get(path);
  if (record) return `${record.kind} ${record.name} (${record.id})`;
  if (isClaimed(new Set(), new Set(claims.pending.keys()), path)) return 'an operation in hand';
  return undefined;
}
