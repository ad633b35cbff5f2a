/**
 * Resolves secret references (`secret://<site>/<id>`, statemachines/secrets.ts) to their values, in
 * memory, just before a driver acts. Only references of this agent's own site are resolved (its IAM
 * role can read no other, and a task naming another site's secret is refused before asking). Values
 * are never written down: not to the journal, the state dir, a log or a command line; a short-lived
 * cache spares the store the lookups of one burst of tasks.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecretRef, SECRETS_PREFIX, secretName } from '../statemachines/secrets';
import type { MachineRef } from '../statemachines/tasks';
import type { AgentConfig } from './config';
import { SecretOfOtherSiteError, SecretUnavailableError } from './errors';

/** Long enough to serve the few tasks of one event, short enough that a rotated password is soon seen. */
export const SECRET_CACHE_MS = 10_000;

export interface SecretResolver {
  /** The value of `ref`; SecretOfOtherSiteError for another site's, SecretUnavailableError when the store cannot give it. */
  resolve(ref: string): Promise<string>;
}

export class SecretsManagerResolver implements SecretResolver {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly site: string,
    private readonly client: SecretsManagerClient,
    private readonly prefix = SECRETS_PREFIX,
    private readonly now = () => Date.now(),
  ) {}

  async resolve(ref: string): Promise<string> {
    const parsed = readSecretRef(ref);
    if (!parsed.ok) throw new SecretUnavailableError(ref, parsed.problem);
    if (parsed.value.site !== this.site) throw new SecretOfOtherSiteError(ref, this.site);
    const hit = this.cache.get(ref);
    if (hit && hit.until > this.now()) return hit.value;
    this.cache.delete(ref);
    let value: string | undefined;
    try {
      const out = await this.client.send(
        new GetSecretValueCommand({ SecretId: secretName(parsed.value, this.prefix) }),
      );
      value = out.SecretString;
    } catch (e) {
      throw new SecretUnavailableError(
        ref,
        `the secret store answered ${(e as Error).name}: ${(e as Error).message}`,
        e,
      );
    }
    if (value === undefined) throw new SecretUnavailableError(ref, 'the secret has no string value');
    this.cache.set(ref, { value, until: this.now() + SECRET_CACHE_MS });
    return value;
  }
}

/** The agent's resolver: the configured endpoint and keys locally, the SDK's default chain and region in AWS. */
export function secretResolver(config: AgentConfig): SecretResolver {
  const client = new SecretsManagerClient({
    region: config.region,
    endpoint: config.secrets?.endpoint,
    credentials: config.secrets?.credentials,
  });
  return new SecretsManagerResolver(config.site, client, config.secrets?.prefix);
}

/** The machine with its credentials' references replaced by their values: for a driver's call, never to keep. */
export async function withCredentials(machine: MachineRef, secrets: SecretResolver): Promise<MachineRef> {
  const refs = Object.entries(machine.credentials ?? {});
  if (!refs.length) return machine;
  const values = await Promise.all(refs.map(async ([key, ref]) => [key, await secrets.resolve(ref)] as const));
  return { ...machine, credentials: Object.fromEntries(values) };
}
