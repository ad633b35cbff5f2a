import { type Credentials, credentialsProblem, generateCredentials } from '../sigv4';
import { StartOptionsError } from './errors';
import { HOST, startEndpoint } from './server';

export type { Credentials } from '../sigv4';

export interface SecretsOptions {
  /** Where the encrypted store and its key file live (made with mode 0700), e.g. `$ENCOMPASS_HOME/secrets`. */
  dir: string;
  /** 0 = pick a free port. The store always listens on 127.0.0.1. */
  port: number;
  /** The only credentials it accepts (SigV4, checked with the secret key); a fresh pair when omitted. */
  credentials?: Credentials;
  region?: string; // default 'us-east-1'
  accountId?: string; // default '000000000000'
  /** Gets start, stop, each change by secret name and each refused request; never a value. */
  log?: (line: string) => void;
}

export interface SecretsEndpoint {
  /** `http://127.0.0.1:<port>`: the `endpoint` of a SecretsManagerClient or `--endpoint-url` of the CLI. */
  endpoint: string;
  region: string;
  accountId: string;
  /** What clients must sign with; hand them to the functions and the agent, nobody else. */
  credentials: Credentials;
  /** Stops listening once requests in flight are answered, and gives the directory up. */
  stop(): Promise<void>;
}

/**
 * Starts the local Secrets Manager endpoint (AWS JSON 1.1: CreateSecret, PutSecretValue, GetSecretValue,
 * DescribeSecret, DeleteSecret, RestoreSecret) over an AES-256-GCM encrypted store in `dir`, so unchanged
 * `@aws-sdk/client-secrets-manager` clients and `aws secretsmanager --endpoint-url` work against it. Secrets
 * survive a restart on the same `dir`; a second store on a `dir` in use is refused.
 */
export async function startSecrets(options: SecretsOptions): Promise<SecretsEndpoint> {
  const credentials = options.credentials ?? generateCredentials('LSEC');
  checkCredentials(credentials);
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const running = await startEndpoint({
    dir: options.dir,
    port: options.port,
    region,
    accountId,
    credentials,
    log: options.log ?? (() => {}),
  });
  return { endpoint: running.endpoint, region, accountId, credentials, stop: running.stop };
}

export { HOST as SECRETS_HOST };

function checkCredentials(c: Credentials): void {
  const wrong = credentialsProblem(c);
  if (wrong) throw new StartOptionsError(wrong.option, wrong.problem);
}
