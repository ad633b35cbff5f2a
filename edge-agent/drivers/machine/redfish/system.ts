/** The parts of a Redfish ComputerSystem the driver reads, and finding the one a machine record means. */

import { normalizeMac, normalizeUuid, sharesMac } from '../common/identity';
import type { PowerReading } from '../common/protocol';
import type { MachineIdentity, MachineRef } from '../interface';
import type { RedfishClient } from './client';
import { RedfishSystemNotFoundError } from './errors';

export interface RedfishSystem {
  '@odata.id'?: string;
  Id?: string;
  UUID?: string;
  SerialNumber?: string;
  PowerState?: string | null;
  Boot?: {
    BootSourceOverrideTarget?: string;
    BootSourceOverrideEnabled?: string;
    'BootSourceOverrideTarget@Redfish.AllowableValues'?: string[];
  };
  Actions?: { '#ComputerSystem.Reset'?: { target?: string; 'ResetType@Redfish.AllowableValues'?: string[] } };
  EthernetInterfaces?: { '@odata.id'?: string };
  Name?: string;
  Model?: string;
  Manufacturer?: string;
  ProcessorSummary?: { Count?: number | null; LogicalProcessorCount?: number | null };
  MemorySummary?: { TotalSystemMemoryGiB?: number | null };
}

interface Collection {
  Members?: { '@odata.id': string }[];
}

/** PoweringOn, PoweringOff and Paused are between states: they still hold the disk, and end no wait. */
export function readingOf(system: RedfishSystem): PowerReading | undefined {
  const state = system.PowerState;
  if (!state) return undefined;
  return state === 'On' ? 'on' : state === 'Off' ? 'off' : 'changing';
}

export function resetTarget(systemPath: string, system: RedfishSystem): string {
  return system.Actions?.['#ComputerSystem.Reset']?.target ?? `${systemPath}/Actions/ComputerSystem.Reset`;
}

/** True unless the BMC lists the reset types it takes and this is not one of them. */
export function allowsReset(system: RedfishSystem, type: string): boolean {
  const allowed = system.Actions?.['#ComputerSystem.Reset']?.['ResetType@Redfish.AllowableValues'];
  return !allowed || allowed.includes(type);
}

export async function systemMacs(client: RedfishClient, system: RedfishSystem): Promise<string[]> {
  const link = system.EthernetInterfaces?.['@odata.id'];
  if (!link) return [];
  const { body } = await client.get<Collection>(link);
  const macs: string[] = [];
  for (const member of body.Members ?? []) {
    const { body: nic } = await client.get<{ MACAddress?: string; PermanentMACAddress?: string }>(member['@odata.id']);
    const mac = nic.PermanentMACAddress || nic.MACAddress;
    if (mac) macs.push(normalizeMac(mac));
  }
  return macs;
}

export async function systemIdentity(client: RedfishClient, system: RedfishSystem): Promise<MachineIdentity> {
  const uuid = normalizeUuid(system.UUID);
  const serial = system.SerialNumber?.trim();
  const macs = await systemMacs(client, system);
  return { ...(uuid ? { uuid } : {}), ...(serial ? { serial } : {}), ...(macs.length ? { macs } : {}) };
}

/**
 * The system's path: settings.systemId when given; else the only system; else the one whose UUID,
 * serial or a MAC matches the machine's identity.
 */
export async function findSystemPath(
  client: RedfishClient,
  machine: MachineRef,
  origin: string,
  systemId?: string,
): Promise<string> {
  const { body: root } = await client.get<{ Systems?: { '@odata.id'?: string } }>('/redfish/v1/');
  const collection = root.Systems?.['@odata.id'] ?? '/redfish/v1/Systems';
  if (systemId) return `${collection.replace(/\/$/, '')}/${encodeURIComponent(systemId)}`;
  const { body } = await client.get<Collection>(collection);
  const members = (body.Members ?? []).map((m) => m['@odata.id']);
  if (members.length === 1) return members[0]!;
  const want = machine.identity;
  for (const path of members) {
    const { body: system } = await client.get<RedfishSystem>(path);
    if (want.uuid && normalizeUuid(system.UUID) === normalizeUuid(want.uuid)) return path;
    if (want.serial && system.SerialNumber?.trim() === want.serial.trim()) return path;
    if (want.macs?.length && sharesMac(want.macs, await systemMacs(client, system))) return path;
  }
  throw new RedfishSystemNotFoundError(machine.id, origin, members);
}
