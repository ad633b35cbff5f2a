/**
 * The discovery contract: what the functions ask an agent to look at (seeds) and what it saw
 * (observations), one schema for both ends (tasks.ts `discover`). The agent only asks and reports;
 * matching what it saw against the records is the functions' (functions/discovery/).
 *
 * Glossary
 * - seed: one place to ask. `ipmi` a BMC (`host` or `host:port`, UDP 623 by default), `redfish` a
 *   Redfish service (`host[:port]` for https, or an `http(s)://` URL), `libvirt` a hypervisor
 *   connection (a libvirt URI such as `qemu:///system` or `test:///path/to/driver.xml`), `storage` a
 *   repository (the functions hand the agent its ref), `vsphere` a vCenter or ESX host (`host[:port]`
 *   for https, or its URL), `bladecenter` a chassis' AMM (`host[:port]`, SNMP on UDP 161 by default;
 *   one machine per blade), `amt` an Intel AMT firmware (`host[:port]`, WS-Man on 16992 by default).
 * - observation: one machine as one seed reported it, with typed identifiers and facts.
 * - volume: one image file (or iSCSI LUN) in a repository, with its size, format, filesystem and,
 *   lazily (only when size or modification time changed since the digest the functions know), sha256.
 * - identifiers are normalized by the agent: MACs lower case with colons, UUIDs lower case with
 *   dashes, an all-zero or all-F UUID left out.
 */
import { z } from 'zod';
import { secretRefSchema } from './secrets';

const id = z.string().min(1);
const count = z.number().int().nonnegative();

export const SEED_KINDS = ['ipmi', 'redfish', 'libvirt', 'storage', 'vsphere', 'bladecenter', 'amt'] as const;
export type SeedKind = (typeof SEED_KINDS)[number];

/** At most this many seeds per discovery, machines and volumes per outcome (it must fit a task's output). */
export const MAX_SEEDS = 64;
export const MAX_OBSERVED = 2000;

/**
 * A seed as the agent gets it: credentials are `secret://` references, resolved in memory when it
 * asks. A `storage` seed also carries the repository its address names (tasks.ts `discover` adds it).
 */
export const seedRef = z.object({
  kind: z.enum(SEED_KINDS),
  address: z.string().min(1).max(1024),
  /** `user` and `password`, or `community`: references, never values. */
  credentials: z.record(z.string(), secretRefSchema).optional(),
  /**
   * How long the agent waits for one answer from the seed, in seconds: per IPMI try (ipmitool -N,
   * with one retry), per Redfish request, per virsh command, per vim25 request. Unset: 3, 15, 60
   * and 30. A sweep over many addresses where few answer wants it short.
   */
  timeoutSeconds: z.number().int().min(1).max(300).optional(),
});

/** The identifiers one machine reported, typed; what the source did not give is left out. */
export const observedIdentifiers = z.object({
  /** System UUID (SMBIOS, BMC GUID, or a VM's domain UUID). */
  uuid: z.string().optional(),
  serial: z.string().optional(),
  model: z.string().optional(),
  /** Its NICs' MACs. */
  macs: z.array(z.string()).default([]),
  /** Where its BMC answers (`host:port`), and the BMC's own MAC. */
  bmcAddress: z.string().optional(),
  bmcMac: z.string().optional(),
  /** A VM's hypervisor (the host's UUID, else its libvirt URI) and domain UUID. */
  hypervisor: z.string().optional(),
  domainUuid: z.string().optional(),
});
export type ObservedIdentifiers = z.infer<typeof observedIdentifiers>;

/** One machine as a seed saw it. */
export const machineObservation = z.object({
  /** The seed's index in the request. */
  seed: count,
  /** The machine kind that would drive it. */
  kind: z.enum(['ipmi', 'redfish', 'libvirt', 'vsphere', 'bladecenter', 'amt']),
  /** What the source calls it (a domain name, a Redfish system id), if anything. */
  name: z.string().optional(),
  identifiers: observedIdentifiers,
  facts: z.object({
    cpus: count.optional(),
    memoryMiB: count.optional(),
    power: z.enum(['on', 'off']).optional(),
    manufacturer: z.string().optional(),
    disks: z.array(z.string()).optional(),
  }),
  /** The driver settings that reach it (ipmi host/port, redfish endpoint/systemId, libvirt uri/domain). */
  settings: z.record(z.string(), z.unknown()),
});
export type MachineObservation = z.infer<typeof machineObservation>;

/** One image in a repository as a storage seed saw it. */
export const volumeObservation = z.object({
  seed: count,
  repository: id,
  path: id,
  sizeBytes: count,
  allocatedBytes: count.optional(),
  format: z.enum(['raw', 'qcow2', 'unknown']),
  modifiedAt: id,
  filesystem: z.string().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** An iSCSI repository's LUN: its target IQN and number. */
  iqn: z.string().optional(),
  lun: count.optional(),
});
export type VolumeObservation = z.infer<typeof volumeObservation>;

/** How asking one seed went. */
export const seedReport = z.object({
  seed: count,
  kind: z.enum(SEED_KINDS),
  address: z.string(),
  seconds: z.number().nonnegative(),
  /** How many of the outcome's machines and volumes are this seed's. */
  machines: count,
  volumes: count,
  /**
   * The seed could not be asked (unreachable, refused the credentials…): what it said. Also set
   * (`too_many_observed`) when the outcome's cap left some of its answer out: its silence about a
   * machine then says nothing.
   */
  error: z.object({ code: id, message: z.string() }).optional(),
});
export type SeedReport = z.infer<typeof seedReport>;

/** A digest the functions already know, so the agent hashes only what changed since. */
export const knownDigest = z.object({
  repository: id,
  path: id,
  sizeBytes: count,
  modifiedAt: id,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const discoverOutcome = z.looseObject({
  machines: z.array(machineObservation).max(MAX_OBSERVED),
  volumes: z.array(volumeObservation).max(MAX_OBSERVED),
  seeds: z.array(seedReport),
});
export type DiscoverOutcome = z.infer<typeof discoverOutcome>;
