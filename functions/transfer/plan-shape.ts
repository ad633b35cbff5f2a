/**
 * What an import's plan says (plan.ts makes it): per object what happens, the name conflicts and how
 * they are resolved, the rebindings the bundle lacks, the clones left unassigned, the images to copy;
 * and why a plan cannot be carried out.
 */
import type { TaskInput } from '../../statemachines/tasks';

type CopyImage = TaskInput<'bundle_copy'>['images'][number];

export interface PlannedMaster {
  object: string;
  name: string;
  version: number;
  action: 'create' | 'skip';
  /** The master on the site: the one made now, or the one it already has. */
  id?: string;
  parent?: string;
  repository?: string;
  path?: string;
  reason?: string;
}

export interface PlannedClone {
  object: string;
  name: string;
  action: 'create' | 'skip';
  id?: string;
  master?: string;
  repository?: string;
  path?: string;
  machine?: string;
  reason?: string;
}

export interface PlannedMachine {
  name: string;
  action: 'create' | 'rebind' | 'skip';
  id?: string;
  reason?: string;
  credentialsNeeded: string[];
}

export interface Plan {
  dryRun: boolean;
  conflicts: {
    kind: 'master' | 'clone';
    name: string;
    resolution: 'skip' | 'rename' | 'fail';
    as?: string;
    reason: string;
  }[];
  missing: { kind: 'repository' | 'machine' | 'master'; name: string; neededBy: string }[];
  masters: PlannedMaster[];
  clones: PlannedClone[];
  machines: PlannedMachine[];
  unassigned: { clone: string; machine: string; reason: string }[];
  copy: { images: CopyImage[]; bytes: number };
}

/** Why a plan cannot be carried out (an import that is no dry run then fails with it, having written nothing). */
export function refusal(plan: Plan): { code: string; message: string } | undefined {
  const fatal = plan.missing.filter((m) => m.kind !== 'machine');
  if (fatal.length)
    return {
      code: 'missing_rebinding',
      message: `the site lacks ${fatal.map((m) => `${m.kind} ${m.name} (for ${m.neededBy})`).join(', ')}; map them with rebinding.repositories (a file repository of the site), or import the bundle that has them; a dry run lists them all`,
    };
  const refused = plan.conflicts.filter((c) => c.resolution === 'fail');
  if (refused.length)
    return {
      code: 'import_conflict',
      message: `names the site already uses: ${refused.map((c) => `${c.kind} ${c.name} (${c.reason})`).join('; ')}; import with onConflict "skip" or "rename", or rename them here first; nothing was imported`,
    };
  const writes = commitWrites(plan);
  if (writes > MAX_COMMIT_WRITES)
    return {
      code: 'import_too_large',
      message: `the import would write ${writes} items in its one transaction, more than ${MAX_COMMIT_WRITES}; export fewer masters, clones or machines per bundle (a re-run skips what an earlier import brought)`,
    };
  return undefined;
}

/** A transaction holds at most 100 items; the operation, its audit entry and the import record take 3. */
export const MAX_COMMIT_WRITES = 97;

/** How many items the commit writes: a record and a name per object, a name pointer per master name, a machine per bound clone. */
export function commitWrites(plan: Plan): number {
  const masters = plan.masters.filter((m) => m.action === 'create');
  const clones = plan.clones.filter((c) => c.action === 'create');
  return (
    2 * masters.length +
    new Set(masters.map((m) => m.name)).size +
    2 * clones.length +
    clones.filter((c) => c.machine).length +
    2 * plan.machines.filter((m) => m.action === 'create').length
  );
}
