import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonObject, readRaw, sendAwsJson } from '../aws-json';
import { type Credentials, SignatureRefusedError, verifySignature } from '../sigv4';
import { ActivityRegistry } from './activities';
import type { ArnScope } from './arns';
import {
  EndpointStartError,
  MalformedRequestError,
  RefusedRequestError,
  StepFunctionsApiError,
  UnknownOperationError,
} from './errors';
import { ExecutionStore } from './executions';
import { buildOperations, type Operation } from './operations';
import type { RequestBody } from './request';
import { StateMachineRegistry } from './statemachines';
import { ActivityTaskBroker } from './task-broker';

export interface EndpointConfig extends ArnScope {
  host: string;
  port: number;
  /** The only key pair requests may be signed with (SigV4, checked with the secret key). */
  credentials: Credentials;
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  log: (line: string) => void;
  /** How long GetActivityTask waits for a task before answering `{}`. */
  longPollMs: number;
}

export interface RunningEndpoint {
  endpoint: string;
  stop(): Promise<void>;
}

const SERVICE = 'states';
const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 1000;

/** Serves the AWS Step Functions JSON 1.0 protocol for the given config; state is in memory only. */
export async function startEndpoint(config: EndpointConfig): Promise<RunningEndpoint> {
  const scope = { region: config.region, accountId: config.accountId };
  let executions: ExecutionStore | undefined;
  const broker = new ActivityTaskBroker((executionArn, type, details) => {
    executions?.recordTaskEvent(executionArn, type, details);
  });
  executions = new ExecutionStore({ scope, broker, invokeFunction: config.invokeFunction, log: config.log });
  const operations = buildOperations({
    machines: new StateMachineRegistry(scope),
    executions,
    activities: new ActivityRegistry(scope),
    broker,
    longPollMs: config.longPollMs,
  });

  const server = createServer((req, res) => void handle(req, res, operations, config));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new EndpointStartError(config.host, config.port, { cause: error })));
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const endpoint = `http://${host}:${port}`;
  config.log(`stepfunctions: listening on ${endpoint}`);

  return {
    endpoint,
    async stop() {
      executions.stopAll();
      broker.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Long polls just ended by closeAll still need a moment to write their `{}` answer.
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      config.log(`stepfunctions: stopped ${endpoint}`);
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, Operation>,
  config: EndpointConfig,
) {
  const disconnected = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) disconnected.abort();
  });
  let name = '';
  try {
    const target = String(req.headers['x-amz-target'] ?? '');
    name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const raw = await readRaw(
      req,
      MAX_BODY_BYTES,
      () => new MalformedRequestError(`body larger than ${MAX_BODY_BYTES} bytes`),
    );
    try {
      verifySignature(
        { method: req.method ?? '', url: req.url ?? '/', rawHeaders: req.rawHeaders, body: raw },
        { credentials: config.credentials, region: config.region, service: SERVICE, now: new Date() },
      );
    } catch (error) {
      throw error instanceof SignatureRefusedError ? new RefusedRequestError(error) : error;
    }
    const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) throw new UnknownOperationError(name);
    const body = parseJsonObject<RequestBody>(raw, (why, cause) => new MalformedRequestError(why, { cause }));
    sendAwsJson(res, '1.0', 200, (await operation(body, disconnected.signal)) ?? {});
  } catch (error) {
    if (error instanceof StepFunctionsApiError) {
      // By operation, client address and AWS type: never the Authorization header or the body.
      if (error instanceof RefusedRequestError)
        config.log(`stepfunctions: refused ${name || 'a request'} from ${req.socket.remoteAddress}: ${error.awsType}`);
      sendAwsJson(res, '1.0', error.status, { __type: error.awsType, message: error.message }, error.awsType);
      return;
    }
    config.log(`stepfunctions: internal error: ${error instanceof Error ? error.stack : String(error)}`);
    sendAwsJson(res, '1.0', 500, {
      __type: 'InternalFailure',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}
