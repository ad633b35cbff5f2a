/**
 * What every probe gets (one seed, its index, the task's digests and drivers) and the helpers they
 * share: reading a `host[:port]` address and resolving a credential reference in memory.
 */
import type { MachineObservation, VolumeObservation } from '../../statemachines/discovery';
import type { TaskInput } from '../../statemachines/tasks';
import type { Drivers } from '../registry';
import type { SecretResolver } from '../secrets';
import { SeedAddressError, SeedCredentialsMissingError, SeedSecretError } from './errors';

export type Seed = TaskInput<'discover'>['seeds'][number];
export type KnownDigest = TaskInput<'discover'>['digests'][number];

/** One seed to ask, with what its probe may use. */
export interface SeedAsk {
  seed: Seed;
  /** The seed's index in the request (each observation carries it). */
  index: number;
  signal: AbortSignal;
  drivers: Drivers;
  digests: readonly KnownDigest[];
  hash: boolean;
  /** The value behind `credentials[key]` for the first of `keys` the seed has; SeedCredentialsMissingError if none. */
  secret(keys: readonly string[]): Promise<string>;
}

/** What one seed answered. `seen` counts what it held before a probe's own cap. */
export interface Observed {
  machines: MachineObservation[];
  volumes: VolumeObservation[];
  seen?: number;
}

export type Probe = (ask: SeedAsk) => Promise<Observed>;

/** Credentials that name an account: messages name it, since the operator must know which one was refused. */
const SHOWN = new Set(['user', 'username']);

/**
 * A resolver for one seed's credentials that remembers each value it gave but a user name (in
 * `given`), so the seed's error can be redacted of them.
 */
export function seedSecrets(seed: Seed, resolver: SecretResolver, given: string[]): SeedAsk['secret'] {
  return async (keys) => {
    const key = keys.find((k) => seed.credentials?.[k] !== undefined);
    const ref = key ? seed.credentials?.[key] : undefined;
    if (!key || !ref) throw new SeedCredentialsMissingError(seed.kind, seed.address, keys);
    const value = await resolver.resolve(ref).catch((cause: unknown) => {
      throw new SeedSecretError(seed.address, key, ref, { cause });
    });
    if (!SHOWN.has(key)) given.push(value);
    return value;
  };
}

/** Replaces every resolved secret value in `text`; short values are left, as they would match anywhere. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length >= 3).reduce((t, s) => t.split(s).join('***'), text);
}

export interface HostPort {
  host: string;
  port: number;
  /** `host:port`, with an IPv6 host in brackets. */
  display: string;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address (which takes the default port). */
export function hostPort(kind: string, address: string, defaultPort: number): HostPort {
  const fail = () => new SeedAddressError(kind, address, `a host or host:port (port ${defaultPort} by default)`);
  const text = address.trim();
  const m =
    /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text) ??
    /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(text) ??
    /^([0-9a-fA-F]*:[0-9a-fA-F:.]+)()$/.exec(text);
  if (!m) throw fail();
  const host = m[1]!;
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail();
  return { host, port, display: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}
