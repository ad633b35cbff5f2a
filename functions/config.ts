/**
 * Settings of the functions, read from the runtime's environment (Worker bindings, Lambda or Node
 * environment variables). Endpoints are set only for the local stack; in AWS the SDK defaults apply.
 */
import { SECRETS_PREFIX } from '../statemachines/secrets';

export interface Config {
  region: string;
  accountId: string;
  table: string;
  bucket: string;
  endpoints: { dynamodb?: string; s3?: string; stepfunctions?: string };
  /** ARN of the function the state machines call for their bookkeeping steps. */
  stepsFunctionArn: string;
  /** Shared secret that lets the local Step Functions endpoint call the steps route. */
  internalSecret?: string;
  /** IAM role the site state machines run as (AWS); the local endpoint ignores it. */
  stateMachineRoleArn: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The key pair the local Step Functions endpoint accepts (it takes no other); `credentials` when unset. */
  stepFunctionsCredentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Where machine credentials are kept (Secrets Manager, or the local stack's endpoint with its own
   * key pair), and the name prefix of every ENCOMPASS secret (statemachines/secrets.ts).
   */
  secrets: { endpoint?: string; prefix: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
  /**
   * How long an isolate or container keeps believing a token it has found (store/tokens.ts): the
   * longest a revoked token still works elsewhere. 0 reads the token on every request.
   */
  tokenCacheMs: number;
}

/** `ENCOMPASS_TOKEN_CACHE_SECONDS` unless set. */
export const DEFAULT_TOKEN_CACHE_SECONDS = 5;

export type Env = Record<string, unknown>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function seconds(env: Env, name: string, fallback: number): number {
  const text = str(env, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} is "${text}": set it to a number of seconds, or 0`);
  return n;
}

function keyPair(id: string | undefined, key: string | undefined) {
  return id && key ? { accessKeyId: id, secretAccessKey: key } : undefined;
}

export function configFromEnv(env: Env): Config {
  const region = str(env, 'AWS_REGION') ?? 'us-east-1';
  const accountId = str(env, 'ENCOMPASS_ACCOUNT_ID') ?? '000000000000';
  const accessKeyId = str(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = str(env, 'AWS_SECRET_ACCESS_KEY');
  return {
    region,
    accountId,
    table: str(env, 'ENCOMPASS_TABLE') ?? 'encompass',
    bucket: str(env, 'ENCOMPASS_BUCKET') ?? 'encompass',
    endpoints: {
      dynamodb: str(env, 'DYNAMODB_ENDPOINT'),
      s3: str(env, 'S3_ENDPOINT'),
      stepfunctions: str(env, 'SFN_ENDPOINT'),
    },
    stepsFunctionArn:
      str(env, 'ENCOMPASS_STEPS_FUNCTION_ARN') ?? `arn:aws:lambda:${region}:${accountId}:function:encompass-steps`,
    internalSecret: str(env, 'ENCOMPASS_INTERNAL_SECRET'),
    stateMachineRoleArn:
      str(env, 'ENCOMPASS_STATEMACHINE_ROLE_ARN') ?? `arn:aws:iam::${accountId}:role/encompass-statemachines`,
    // Only the local stack passes keys; in AWS the SDK's default provider chain is used.
    credentials: keyPair(accessKeyId, secretAccessKey),
    stepFunctionsCredentials: keyPair(str(env, 'SFN_ACCESS_KEY_ID'), str(env, 'SFN_SECRET_ACCESS_KEY')),
    secrets: {
      endpoint: str(env, 'SECRETS_ENDPOINT'),
      prefix: str(env, 'ENCOMPASS_SECRETS_PREFIX') ?? SECRETS_PREFIX,
      // The local secrets endpoint accepts only the pair it handed out, not the other endpoints' keys.
      credentials: keyPair(str(env, 'SECRETS_ACCESS_KEY_ID'), str(env, 'SECRETS_SECRET_ACCESS_KEY')),
    },
    tokenCacheMs: seconds(env, 'ENCOMPASS_TOKEN_CACHE_SECONDS', DEFAULT_TOKEN_CACHE_SECONDS) * 1000,
  };
}
