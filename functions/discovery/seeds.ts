/**
 * Seeds as the API takes them and as records and workflows keep them. A seed's credentials go to the
 * secret store under a reference made from the seed's kind and address, the same for a one-off
 * discovery and a schedule, so the machines a discovery finds can keep using them by reference.
 */
import { z } from 'zod';
import { MAX_SEEDS, SEED_KINDS, type SeedKind } from '../../statemachines/discovery';
import { formatSecretRef } from '../../statemachines/secrets';
import type { Deps } from '../deps';
import type { Machine } from '../store/records';

const credentialValue = z.string().min(1, 'a credential needs a value').max(4096);

export const seedBody = z
  .object({
    kind: z.enum(SEED_KINDS),
    address: z.string().min(1).max(1024),
    credentials: z
      // privPassword: SNMPv3 privacy (AES) of a bladecenter seed, beside its user and password.
      .object({
        user: credentialValue,
        password: credentialValue,
        community: credentialValue,
        privPassword: credentialValue,
      })
      .partial()
      .strict()
      .optional(),
    /** How long the agent waits for one answer of the seed (s); short for a sweep over addresses where few answer. */
    timeoutSeconds: z.number().int().min(1).max(300).optional(),
  })
  .strict()
  .refine((s) => !(s.kind === 'storage' && s.credentials), {
    message: 'a storage seed names a repository of the site and takes no credentials; remove them',
    path: ['credentials'],
  });
export type SeedBody = z.infer<typeof seedBody>;

export const seedsBody = z.array(seedBody).min(1).max(MAX_SEEDS);

/** A seed as kept: kind, address and the references of its credentials. */
export interface StoredSeed {
  kind: SeedKind;
  address: string;
  credentials?: Record<string, string>;
  timeoutSeconds?: number;
}

/** `host`, `host:port`, `[v6]:port`: lower case, with the default port. */
function hostPort(address: string, port: number): string {
  const a = address.trim().toLowerCase();
  if (/^\[.*\]$/.test(a) || !/:\d+$/.test(a) || (a.match(/:/g)?.length ?? 0) > 1) return `${a}:${port}`;
  return a;
}

function origin(address: string): string {
  const a = address.trim();
  try {
    return new URL(/^https?:\/\//i.test(a) ? a : `https://${a}`).origin;
  } catch {
    return a.toLowerCase();
  }
}

/** The seed's address as every run compares it: what makes two seeds the same place to ask. */
export function normalizeAddress(kind: SeedKind, address: string): string {
  if (kind === 'ipmi') return hostPort(address, 623);
  if (kind === 'redfish') return origin(address);
  if (kind === 'vsphere') return origin(address);
  if (kind === 'bladecenter') return hostPort(address, 161);
  if (kind === 'amt') return hostPort(address, 16992);
  return address.trim();
}

export const seedKey = (kind: SeedKind, address: string) => `${kind}:${normalizeAddress(kind, address)}`;

/** The seed that would report this record: the one that last did, else the one its driver settings name. */
export function seedKeyOfRecord(m: Machine): string | undefined {
  if (m.inventory?.seed) return m.inventory.seed;
  const s = m.settings;
  const str = (k: string) => (typeof s[k] === 'string' || typeof s[k] === 'number' ? String(s[k]) : undefined);
  if (m.kind === 'ipmi' && str('host')) return seedKey('ipmi', `${str('host')}:${str('port') ?? 623}`);
  if (m.kind === 'redfish' && str('endpoint')) return seedKey('redfish', str('endpoint')!);
  if (m.kind === 'libvirt' && str('uri')) return seedKey('libvirt', str('uri')!);
  if (m.kind === 'vsphere' && str('endpoint')) return seedKey('vsphere', str('endpoint')!);
  if (m.kind === 'amt' && str('host')) return seedKey('amt', `${str('host')}:${str('port') ?? 16992}`);
  if (m.kind === 'bladecenter' && str('amm')) return seedKey('bladecenter', `${str('amm')}:${str('snmpPort') ?? 161}`);
  return undefined;
}

/** A short, stable digest of a seed's key: its secrets' folder in the store. */
async function seedDigest(key: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return [...bytes.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Where credential `name` of the seed at `address` is kept: the same for every discovery and schedule of it. */
export async function seedSecretRef(site: string, kind: SeedKind, address: string, name: string): Promise<string> {
  return formatSecretRef({ site, id: `discovery/${kind}-${await seedDigest(seedKey(kind, address))}/${name}` });
}

/**
 * Writes the seeds' credentials to the secret store and returns the seeds with references. A seed
 * given without credentials keeps the ones stored for the same place before (`earlier`).
 */
export async function storeSeeds(
  deps: Deps,
  site: string,
  seeds: SeedBody[],
  earlier: readonly StoredSeed[] = [],
): Promise<StoredSeed[]> {
  const out: StoredSeed[] = [];
  for (const seed of seeds) {
    const key = seedKey(seed.kind, seed.address);
    const base = {
      kind: seed.kind,
      address: seed.address,
      ...(seed.timeoutSeconds ? { timeoutSeconds: seed.timeoutSeconds } : {}),
    };
    if (!seed.credentials) {
      const before = earlier.find((e) => seedKey(e.kind, e.address) === key)?.credentials;
      out.push({ ...base, ...(before ? { credentials: before } : {}) });
      continue;
    }
    const refs: Record<string, string> = {};
    for (const [name, value] of Object.entries(seed.credentials)) {
      const ref = await seedSecretRef(site, seed.kind, seed.address, name);
      await deps.secrets.put(ref, value);
      refs[name] = ref;
    }
    out.push({ ...base, credentials: refs });
  }
  return out;
}
