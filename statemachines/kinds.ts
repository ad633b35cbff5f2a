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

/**
 * The settings without which a kind's driver cannot reach its machine, and what each is (the driver's
 * header says the rest). The API refuses a machine without them, at registration and after a patch,
 * since a machine that is attached before its driver fails could no longer be detached or fixed; each
 * driver fails as `invalid_settings` naming the one left out (test/edge-agent/drivers/machine/required-settings.test.ts).
 */
export const requiredSettings: Record<MachineKind, Readonly<Record<string, string>>> = {
  sim: {},
  qemu: {},
  libvirt: {},
  ipmi: { host: "the BMC's address" },
  redfish: { endpoint: "the BMC's Redfish URL, e.g. https://10.0.0.5" },
  vsphere: { endpoint: 'the vCenter or ESX host, e.g. https://vcenter.example.com (its /sdk URL)' },
  xen: {},
  bladecenter: { amm: "the chassis AMM's address", slot: "the blade's slot in the chassis, 1-14" },
  amt: { host: "the AMT firmware's address" },
};

/** What the API says of a required setting left out: `required for a machine of kind bladecenter: the blade's slot…`. */
export const missingSettingMessage = (kind: MachineKind, what: string) =>
  `required for a machine of kind ${kind}: ${what}`;

/**
 * Whether a kind's machine holds the clone's disk itself: attach gives the libvirt or Xen domain, or
 * the vSphere VM, the disk, and the settings name that domain or VM, so they are fixed from attach
 * on. The others boot a disk the agent keeps for them (a SAN LUN behind an initiator ACL, a qemu
 * process's drive): attach sets up nothing on the machine, so its settings (a BMC's address, a
 * blade's slot) can still be corrected while the clone is attached and the machine is off. Each
 * driver says the same of itself (`MachineDriver.holdsDisk`, held to this in required-settings.test.ts).
 */
export const holdsDisk: Record<MachineKind, boolean> = {
  sim: false,
  qemu: false,
  libvirt: true,
  ipmi: false,
  redfish: false,
  vsphere: true,
  xen: true,
  bladecenter: false,
  amt: false,
};

/** The required settings `settings` lacks for `kind`, with what each is. */
export function missingSettings(kind: MachineKind, settings: Record<string, unknown>): [string, string][] {
  return Object.entries(requiredSettings[kind]).filter(([key]) => {
    const v = settings[key];
    return v === undefined || v === null || v === '';
  });
}
