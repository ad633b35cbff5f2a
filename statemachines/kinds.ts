/**
 * The kinds of repositories and machines. Each kind is a driver of the agent (edge-agent/registry.ts
 * is typed by these lists, so a kind without a driver does not compile) and a closed list of the
 * functions' schemas. The one list of each.
 */
export const storageKinds = ['file', 'iscsi'] as const;
export type StorageKind = (typeof storageKinds)[number];

export const machineKinds = [
  'sim',
  'qemu',
  'libvirt',
  'ipmi',
  'redfish',
  'vsphere',
  'xen',
  'bladecenter',
  'amt',
] as const;
export type MachineKind = (typeof machineKinds)[number];
