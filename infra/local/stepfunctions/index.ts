import './polyfill';
import { startEndpoint } from './server';

export interface StepFunctionsOptions {
  host?: string; // default 127.0.0.1
  port: number; // 0 = pick a free port
  region?: string; // default 'us-east-1'
  accountId?: string; // default '000000000000'
  /** Runs a Lambda task: Resource `arn:aws:lambda:<region>:<acct>:function:<name>` (output = result) or
   *  `arn:aws:states:::lambda:invoke` with Parameters.FunctionName + Parameters.Payload (output = {Payload: result, StatusCode: 200}).
   *  A thrown error's `name` is the error name matched by Retry/Catch (like Lambda's errorType), its message the Cause. */
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  log?: (line: string) => void;
}

/** GetActivityTask holds the request this long before answering `{}`, as AWS does. */
const ACTIVITY_LONG_POLL_MS = 60_000;

/**
 * Starts a local AWS Step Functions endpoint (AWS JSON 1.0 over HTTP) running state machines with
 * aws-local-stepfunctions, so unchanged @aws-sdk/client-sfn clients and `aws stepfunctions --endpoint-url`
 * work against it. State machines, executions and activities live in memory: after a restart they are gone
 * and DescribeExecution answers ExecutionDoesNotExist.
 */
export function startStepFunctions(opts: StepFunctionsOptions): Promise<{ endpoint: string; stop(): Promise<void> }> {
  return startEndpoint({
    host: opts.host ?? '127.0.0.1',
    port: opts.port,
    region: opts.region ?? 'us-east-1',
    accountId: opts.accountId ?? '000000000000',
    invokeFunction: opts.invokeFunction,
    log: opts.log ?? (() => {}),
    longPollMs: ACTIVITY_LONG_POLL_MS,
  });
}
