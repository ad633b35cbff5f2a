/**
 * A `redfish` seed: one Redfish service, asked with the machine driver's client (HTTP Basic, the
 * credentials in a header only). Reads the service root's Systems collection, each member
 * (UUID, SerialNumber, Model, Manufacturer, PowerState, ProcessorSummary, MemorySummary) and its
 * EthernetInterfaces members (MACAddress and PermanentMACAddress: both, when they differ).
 *
 * PowerState: On, PoweringOff, PoweringOn and Paused count as on, as they hold (or are about to hold)
 * the disk, which is what the functions ask power for; Off is off; none (or null) leaves power out.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import { normalizeMac, normalizeUuid } from '../drivers/machine/common/identity';
import { RedfishClient, type RedfishConnection } from '../drivers/machine/redfish/client';
import {
  RedfishRequestError,
  RedfishUnauthorizedError,
  RedfishUnreachableError,
} from '../drivers/machine/redfish/errors';
import type { RedfishSystem } from '../drivers/machine/redfish/system';
import {
  RedfishSeedRefusedError,
  RedfishSeedRequestError,
  RedfishSeedUnreachableError,
  SeedAddressError,
} from './errors';
import { hostPort, type Observed, type SeedAsk } from './seed';

const REQUEST_SECONDS = 15;

interface Collection {
  Members?: { '@odata.id': string }[];
}

interface Nic {
  MACAddress?: string | null;
  PermanentMACAddress?: string | null;
}

export async function askRedfish(ask: SeedAsk): Promise<Observed> {
  const origin = originOf(ask.seed.address);
  const username = await ask.secret(['user', 'username']);
  const password = await ask.secret(['password']);
  const c: RedfishConnection = {
    origin,
    username,
    password,
    timeoutMs: (ask.seed.timeoutSeconds ?? REQUEST_SECONDS) * 1000,
  };
  const client = new RedfishClient(`seed ${ask.index}`, c);
  try {
    const { body: root } = await client.get<{ Systems?: { '@odata.id'?: string } }>('/redfish/v1/');
    const { body } = await client.get<Collection>(root.Systems?.['@odata.id'] ?? '/redfish/v1/Systems');
    const machines: MachineObservation[] = [];
    for (const member of body.Members ?? []) {
      if (ask.signal.aborted) throw ask.signal.reason;
      const { body: system } = await client.get<RedfishSystem>(member['@odata.id']);
      machines.push(observation(ask.index, origin, member['@odata.id'], system, await macsOf(client, system)));
    }
    return { machines, volumes: [] };
  } catch (err) {
    throw seedError(err, origin, username);
  }
}

function observation(
  seed: number,
  endpoint: string,
  path: string,
  s: RedfishSystem,
  macs: string[],
): MachineObservation {
  const systemId = s.Id ?? decodeURIComponent(path.replace(/\/$/, '').split('/').pop() ?? '');
  const uuid = normalizeUuid(s.UUID);
  const serial = s.SerialNumber?.trim();
  const model = s.Model?.trim();
  const manufacturer = s.Manufacturer?.trim();
  const cpus = s.ProcessorSummary?.LogicalProcessorCount ?? s.ProcessorSummary?.Count;
  const gib = s.MemorySummary?.TotalSystemMemoryGiB;
  const power = !s.PowerState ? undefined : s.PowerState === 'Off' ? 'off' : 'on';
  return {
    seed,
    kind: 'redfish',
    ...(systemId ? { name: systemId } : {}),
    identifiers: {
      ...(uuid ? { uuid } : {}),
      ...(serial ? { serial } : {}),
      ...(model ? { model } : {}),
      macs,
    },
    facts: {
      ...(typeof cpus === 'number' && cpus >= 0 ? { cpus: Math.round(cpus) } : {}),
      ...(typeof gib === 'number' && gib >= 0 ? { memoryMiB: Math.round(gib * 1024) } : {}),
      ...(power ? { power } : {}),
      ...(manufacturer ? { manufacturer } : {}),
    },
    settings: { endpoint, systemId },
  };
}

/** Every MAC the system's NICs report; a service without EthernetInterfaces gives none. */
async function macsOf(client: RedfishClient, system: RedfishSystem): Promise<string[]> {
  const link = system.EthernetInterfaces?.['@odata.id'];
  if (!link) return [];
  const macs = new Set<string>();
  try {
    const { body } = await client.get<Collection>(link);
    for (const member of body.Members ?? []) {
      const { body: nic } = await client.get<Nic>(member['@odata.id']);
      for (const mac of [nic.PermanentMACAddress, nic.MACAddress]) if (mac?.trim()) macs.add(normalizeMac(mac));
    }
  } catch (err) {
    // Some BMCs list the link but answer 404 for it: the system is still worth reporting.
    if (!(err instanceof RedfishRequestError)) throw err;
  }
  return [...macs];
}

/** `https://host[:port]` from `host[:port]`, or the origin of an http(s):// URL (Redfish lives at its root). */
function originOf(address: string): string {
  if (!/^https?:\/\//i.test(address)) {
    const { host, port } = hostPort('redfish', address, 443);
    const h = host.includes(':') ? `[${host}]` : host;
    return port === 443 ? `https://${h}` : `https://${h}:${port}`;
  }
  const expected = 'host[:port] or an http(s):// URL without credentials';
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new SeedAddressError('redfish', address, expected);
  }
  if (url.username || url.password) throw new SeedAddressError('redfish', '(a URL with credentials)', expected);
  return url.origin;
}

function seedError(err: unknown, origin: string, user: string): unknown {
  if (err instanceof RedfishUnauthorizedError) return new RedfishSeedRefusedError(origin, user, err.status);
  if (err instanceof RedfishUnreachableError) {
    const cause = err.cause as Error | undefined;
    const why = (cause?.cause as Error | undefined)?.message ?? cause?.message ?? 'no reason given';
    return new RedfishSeedUnreachableError(err.url, why, { cause: err });
  }
  if (err instanceof RedfishRequestError)
    return new RedfishSeedRequestError(err.method, err.url, err.status, err.detail);
  return err;
}
