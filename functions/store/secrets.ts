/**
 * The functions' side of the secret store (Secrets Manager in AWS, the local stack's endpoint here):
 * they write and delete secrets by reference and never read one back (their IAM role cannot). A value
 * passes through here on its way in and is kept nowhere else.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { readSecretRef, secretName } from '../../statemachines/secrets';
import type { Config } from '../config';
import { UnavailableError } from '../errors';

export function secretsClient(config: Config): SecretsManagerClient {
  return new SecretsManagerClient({
    region: config.region,
    endpoint: config.secrets.endpoint,
    credentials: config.secrets.credentials,
  });
}

const named = (error: unknown, name: string) => (error as Error | undefined)?.name === name;

/** The store failed or did not answer: nothing that references the secret was written, so a retry is safe. */
const unavailable = (ref: string, e: unknown) =>
  new UnavailableError(
    `the secret store did not take secret ${ref} (${(e as Error).name}: ${(e as Error).message}); nothing was changed that refers to it: retry`,
    {},
    { cause: e },
  );

export class Secrets {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  private name(ref: string): string {
    const checked = readSecretRef(ref);
    if (!checked.ok) throw new TypeError(checked.problem);
    return secretName(checked.value, this.prefix);
  }

  /** Sets the value of `ref`, creating the secret if there is none yet; true when it was created. */
  async put(ref: string, value: string): Promise<boolean> {
    const name = this.name(ref);
    try {
      return await this.putOrCreate(name, value);
    } catch (e) {
      throw unavailable(ref, e);
    }
  }

  private async putOrCreate(SecretId: string, value: string): Promise<boolean> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId, SecretString: value }));
      return false;
    } catch (e) {
      if (!named(e, 'ResourceNotFoundException')) throw e;
    }
    try {
      await this.client.send(new CreateSecretCommand({ Name: SecretId, SecretString: value }));
      return true;
    } catch (e) {
      // Created meanwhile by a concurrent write of the same reference: this value is the later one.
      if (!named(e, 'ResourceExistsException')) throw e;
      await this.client.send(new PutSecretValueCommand({ SecretId, SecretString: value }));
      return false;
    }
  }

  /**
   * Deletes `ref` at once (no recovery window, so the same reference can be written again right away).
   * A secret that is already gone is no error.
   */
  async delete(ref: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: this.name(ref), ForceDeleteWithoutRecovery: true }));
    } catch (e) {
      if (!named(e, 'ResourceNotFoundException')) throw unavailable(ref, e);
    }
  }
}
