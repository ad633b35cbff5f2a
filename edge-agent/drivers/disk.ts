/**
 * How a machine reaches a clone's image: a file on storage the machine's host can read (NAS, local
 * disk), or an iSCSI LUN whose target lets in only the machine's initiator name.
 */
import type { DiskRef } from '../../statemachines/tasks';

/** The shapes are the task contract's (statemachines/tasks.ts): an attach outcome carries the disk. */
export type { DiskRef } from '../../statemachines/tasks';
/** `path`: absolute, on the agent's host; `datastore`: the same file as vSphere sees it. */
export type FileDisk = Extract<DiskRef, { kind: 'file' }>;
/** `portal`: host:port of the target portal; `target`: its IQN. */
export type IscsiDisk = Extract<DiskRef, { kind: 'iscsi' }>;

export function sameDisk(a: DiskRef, b: DiskRef): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

export function describeDisk(d: DiskRef): string {
  return d.kind === 'file' ? d.path : `iscsi://${d.portal}/${d.target}/${d.lun}`;
}

/**
 * A repository's `settings.datastore` names where its root is on a vSphere datastore, `[ds]` or
 * `[ds] dir` (a NAS export the agent mounts and ESX mounts as datastore `ds`); a file `rel` of the
 * repository is then `[ds] dir/rel` to vSphere.
 */
export function datastorePath(root: unknown, rel: string): string | undefined {
  if (typeof root !== 'string') return undefined;
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(root.trim());
  if (!m) return undefined;
  const dir = m[2]!.replace(/\/+$/, '');
  const file = rel.replace(/^\/+/, '');
  return `[${m[1]}] ${dir ? `${dir}/${file}` : file}`;
}
