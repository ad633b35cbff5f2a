/** The stack's own stores, for tests that check what was written (credentials the API never shows). */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { configFromEnv } from '../../functions/config';
import { buildDeps, type Deps } from '../../functions/deps';
import { readSecretRef, secretName } from '../../statemachines/secrets';

let deps: Deps | undefined;
let secrets: SecretsManagerClient | undefined;

export function stackDeps(): Deps {
  deps ??= buildDeps(configFromEnv(inject('stack').env));
  return deps;
}

/** The value a `secret://` reference names in the stack's secret store, or undefined when there is no such secret. */
export async function secretValue(ref: string): Promise<string | undefined> {
  const parsed = readSecretRef(ref);
  if (!parsed.ok) throw new Error(parsed.problem);
  const { secrets: s, region } = stackDeps().config;
  secrets ??= new SecretsManagerClient({ region, endpoint: s.endpoint, credentials: s.credentials });
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretName(parsed.value, s.prefix) }));
    return out.SecretString;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

/** A machine's stored credentials with each reference resolved: what the agent would see. */
export async function storedCredentials(
  id: string,
): Promise<{ refs: Record<string, string>; values: Record<string, string | undefined> }> {
  const refs = (await stackDeps().machines.get(id))?.credentials ?? {};
  const values = Object.fromEntries(
    await Promise.all(Object.entries(refs).map(async ([k, r]) => [k, await secretValue(r)])),
  );
  return { refs, values };
}
