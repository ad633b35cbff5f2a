import './polyfill';
import { type Credentials, credentialsProblem, generateCredentials } from '../sigv4';
import { StartOptionsError } from './errors';
import { startEndpoint } from './server';

export type { Credentials } from '../sigv4';

export interface StepFunctionsOptions {
  host?: string; // default 127.0.0.1
  port: number; // 0 = pick a free port
  region?: string; // default 'us-east-1'
  accountId?: string; // default '000000000000'
  /** The only credentials it accepts (SigV4, checked with the secret key); a fresh pair when omitted. */
  credentials?: Credentials;
  /** Runs a Lambda task: Resource `arn:aws:lambda:<region>:<acct>:function:<name>` (output = result) or
   *  `arn:aws:states:::lambda:invoke` with Parameters.FunctionName + Parameters.Payload (output = {Payload: result, StatusCode: 200}).
   *  A thrown error's `name` is the error name matched by Retry/Catch (like Lambda's errorType), its message the Cause. */
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  /** Gets start, stop, internal errors and each refused request (by operation, never its signature). */
  log?: (line: string) => void;
}

export interface StepFunctionsEndpoint {
  /** `http://<host>:<port>`: the `endpoint` of an SFNClient or `--endpoint-url` of the CLI. */
  endpoint: string;
  region: string;
  accountId: string;
  /** What clients must sign with; hand them to the functions and the agent, nobody else. */
  credentials: Credentials;
  stop(): Promise<void>;
}

/** GetActivityTask holds the request this long before answering `{}`, as AWS does. */
const ACTIVITY_LONG_POLL_MS = 60_000;

/**
 * Starts a local AWS Step Functions endpoint (AWS JSON 1.0 over HTTP) running state machines with
 * aws-local-stepfunctions, so unchanged @aws-sdk/client-sfn clients and `aws stepfunctions --endpoint-url`
 * work against it when they sign with `credentials` (any other key pair, or none, is refused as AWS
 * refuses it). State machines, executions and activities live in memory: after a restart they are gone
 * and DescribeExecution answers ExecutionDoesNotExist.
 */
export async function startStepFunctions(opts: StepFunctionsOptions): Promise<StepFunctionsEndpoint> {
  const credentials = opts.credentials ?? generateCredentials('LSFN');
  const wrong = credentialsProblem(credentials);
  if (wrong) throw new StartOptionsError(wrong.option, wrong.problem);
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const running = await startEndpoint({
    host: opts.host ?? '127.0.0.1',
    port: opts.port,
    region,
    accountId,
    credentials,
    invokeFunction: opts.invokeFunction,
    log: opts.log ?? (() => {}),
    longPollMs: ACTIVITY_LONG_POLL_MS,
  });
  return { endpoint: running.endpoint, region, accountId, credentials, stop: running.stop };
}
