/** A local secret store in a temp directory, with a client signed by its credentials and its log kept. */
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { type SecretsEndpoint, type SecretsOptions, startSecrets } from '../../../../infra/local/secrets';
import { tempDir } from '../helpers';

export interface Running {
  secrets: SecretsEndpoint;
  dir: string;
  logs: string[];
  client(overrides?: Partial<SecretsManagerClientConfig>): SecretsManagerClient;
  /** Stops the store (again harmlessly) and removes its directory. */
  remove(): Promise<void>;
}

export async function startInTemp(options: Partial<SecretsOptions> = {}): Promise<Running> {
  const temp = await tempDir('secrets');
  const dir = `${temp.path}/secrets`;
  const logs: string[] = [];
  const secrets = await startSecrets({ dir, port: 0, log: (line) => logs.push(line), ...options });
  const clients: SecretsManagerClient[] = [];
  let stopped = false;
  return {
    secrets,
    dir,
    logs,
    client(overrides = {}) {
      const client = new SecretsManagerClient({ ...clientConfig(secrets), ...overrides });
      clients.push(client);
      return client;
    },
    async remove() {
      for (const c of clients) c.destroy();
      if (!stopped) await secrets.stop();
      stopped = true;
      await temp.remove();
    },
  };
}

/** What the stack hands a client of the store: its endpoint, its region and its credentials. */
export const clientConfig = (s: SecretsEndpoint): SecretsManagerClientConfig => ({
  endpoint: s.endpoint,
  region: s.region,
  credentials: s.credentials,
  // Refusals and errors are what some tests are about: no retries that would only repeat them.
  maxAttempts: 1,
});

/** The thrown error of a promise that must fail (a promise that resolves fails the test). */
export async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}
