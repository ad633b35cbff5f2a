import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityRegistry } from './activities';
import type { ArnScope } from './arns';
import { EndpointStartError, MalformedRequestError, StepFunctionsApiError, UnknownOperationError } from './errors';
import { ExecutionStore } from './executions';
import { buildOperations, type Operation } from './operations';
import type { RequestBody } from './request';
import { StateMachineRegistry } from './statemachines';
import { ActivityTaskBroker } from './task-broker';

export interface EndpointConfig extends ArnScope {
  host: string;
  port: number;
  invokeFunction: (functionName: string, payload: unknown) => Promise<unknown>;
  log: (line: string) => void;
  /** How long GetActivityTask waits for a task before answering `{}`. */
  longPollMs: number;
}

export interface RunningEndpoint {
  endpoint: string;
  stop(): Promise<void>;
}

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

  const server = createServer((req, res) => void handle(req, res, operations, config.log));
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
  log: (line: string) => void,
) {
  const disconnected = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) disconnected.abort();
  });
  try {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) throw new UnknownOperationError(name);
    send(res, 200, (await operation(body, disconnected.signal)) ?? {});
  } catch (error) {
    if (error instanceof StepFunctionsApiError) {
      send(res, error.status, { __type: error.awsType, message: error.message }, error.awsType);
      return;
    }
    log(`stepfunctions: internal error: ${error instanceof Error ? error.stack : String(error)}`);
    send(res, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) });
  }
}

async function readBody(req: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new MalformedRequestError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedRequestError('not JSON', { cause: error });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new MalformedRequestError('not a JSON object');
  return parsed as RequestBody;
}

function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}
