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

export function secretsClient(config: Config): SecretsManagerClient {
  return new SecretsManagerClient({
    region: config.region,
    endpoint: config.secrets.endpoint,
    credentials: config.secrets.credentials,
  });
}

const named = (error: unknown, name: string) => (error as Error | undefined)?.name === name;

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
    const SecretId = this.name(ref);
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
      if (!named(e, 'ResourceNotFoundException')) throw e;
    }
  }
}
