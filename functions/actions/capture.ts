/**
 * Capture: a clone in maintenance becomes a new master version. Lineage is kept: the new master
 * names its parent master and the clone it came from, in DynamoDB and in the catalog.
 */
import type { Deps } from '../deps';
import type { Write } from '../store/db';
import type { Clone, Master, Operation } from '../store/records';

export async function captureWrites(
  deps: Deps,
  op: Operation,
  clone: Clone,
  outcome: Record<string, unknown>,
  now: string,
): Promise<{ master: Master; writes: Write[]; after?: () => Promise<void> }> {
  const parent = (await deps.masters.get(clone.master))!;
  const req = op.request as { name: string; version: number; previous?: string; master: string };
  const master: Master = {
    id: req.master,
    name: req.name,
    version: req.version,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    status: 'ready',
    repository: clone.repository,
    path: outcome.path as string,
    sizeBytes: outcome.sizeBytes as number,
    allocatedBytes: outcome.allocatedBytes as number,
    sha256: outcome.sha256 as string,
    format: outcome.format as Master['format'],
    filesystem: (outcome.filesystem as Master['filesystem']) ?? parent.filesystem,
    parent: parent.id,
    sourceClone: clone.id,
    profile: parent.profile,
    requirements: parent.requirements,
    customization: parent.customization,
  };
  await deps.catalog.putMaster(master);
  const writes = req.previous
    ? deps.masters.nextVersionWrites(master, req.previous)
    : deps.masters.createWrites(master);
  return { master, writes };
}
