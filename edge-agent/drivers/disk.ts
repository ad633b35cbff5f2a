/**
 * How a machine reaches a clone's image: a file on storage the machine's host can read (NAS, local
 * disk), or an iSCSI LUN whose target lets in only the machine's initiator name.
 */
import type { DiskRef } from '../../statemachines/tasks';

/** The shapes are the task contract's (statemachines/tasks.ts): an attach outcome carries the disk. */
export type { DiskRef } from '../../statemachines/tasks';
/** `path`: absolute, on the agent's host. */
export type FileDisk = Extract<DiskRef, { kind: 'file' }>;
/** `portal`: host:port of the target portal; `target`: its IQN. */
export type IscsiDisk = Extract<DiskRef, { kind: 'iscsi' }>;

export function sameDisk(a: DiskRef, b: DiskRef): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

export function describeDisk(d: DiskRef): string {
  return d.kind === 'file' ? d.path : `iscsi://${d.portal}/${d.target}/${d.lun}`;
}
