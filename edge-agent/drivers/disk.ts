/**
 * How a machine reaches a clone's image: a file on storage the machine's host can read (NAS, local
 * disk), or an iSCSI LUN whose target lets in only the machine's initiator name.
 */
export interface FileDisk {
  kind: 'file';
  /** Absolute path on the agent's host. */
  path: string;
  format: 'raw' | 'qcow2';
}

export interface IscsiDisk {
  kind: 'iscsi';
  /** host:port of the target portal. */
  portal: string;
  /** The target's IQN. */
  target: string;
  lun: number;
  format: 'raw';
}

export type DiskRef = FileDisk | IscsiDisk;

export function sameDisk(a: DiskRef, b: DiskRef): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

export function describeDisk(d: DiskRef): string {
  return d.kind === 'file' ? d.path : `iscsi://${d.portal}/${d.target}/${d.lun}`;
}
