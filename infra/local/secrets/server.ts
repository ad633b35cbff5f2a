import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonObject, readRaw, sendAwsJson } from '../aws-json';
import { type Credentials, SignatureRefusedError, verifySignature } from '../sigv4';
import {
  EndpointStartError,
  InternalServiceError,
  MalformedRequestError,
  RefusedRequestError,
  RequestTooLargeError,
  SecretsApiError,
  UnknownOperationError,
} from './errors';
import { buildOperations, type Operation } from './operations';
import type { RequestBody } from './request';
import { SecretStore } from './store';
import { openVault } from './vault';

export interface EndpointConfig {
  dir: string;
  port: number;
  region: string;
  accountId: string;
  credentials: Credentials;
  log: (line: string) => void;
}

export interface RunningEndpoint {
  endpoint: string;
  stop(): Promise<void>;
}

/** Loopback only, on purpose: the store answers nobody outside this host, whatever the options say. */
export const HOST = '127.0.0.1';
const SERVICE = 'secretsmanager';
const TARGET_PREFIX = 'secretsmanager.';
/** A value is at most 64 KiB; base64 and the rest of the request fit well inside this. */
const MAX_BODY_BYTES = 256 * 1024;
const SHUTDOWN_GRACE_MS = 1000;
/** Operations that change the store, logged by name (never by value). */
const CHANGES = new Set(['CreateSecret', 'PutSecretValue', 'DeleteSecret', 'RestoreSecret']);

/** Serves the Secrets Manager JSON 1.1 protocol over the encrypted store in `config.dir`. */
export async function startEndpoint(config: EndpointConfig): Promise<RunningEndpoint> {
  const vault = await openVault(config.dir);
  let store: SecretStore;
  try {
    store = await SecretStore.open(vault, config);
  } catch (error) {
    await vault.close();
    throw error;
  }
  const operations = buildOperations(store);
  const server = createServer((req, res) => void handle(req, res, operations, config));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new EndpointStartError(HOST, config.port, { cause: error })));
      server.listen(config.port, HOST, () => resolve());
    });
  } catch (error) {
    await vault.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${HOST}:${port}`;
  config.log(`secrets: listening on ${endpoint}, store in ${config.dir}`);

  return {
    endpoint,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      // A client that hung up mid-request leaves its change running: seal it before giving the directory up.
      await store.settled();
      await vault.close();
      config.log(`secrets: stopped ${endpoint}`);
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, Operation>,
  config: EndpointConfig,
): Promise<void> {
  let name = '';
  try {
    const target = String(req.headers['x-amz-target'] ?? '');
    name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const raw = await readRaw(req, MAX_BODY_BYTES, () => new RequestTooLargeError(MAX_BODY_BYTES));
    try {
      verifySignature(
        { method: req.method ?? '', url: req.url ?? '/', rawHeaders: req.rawHeaders, body: raw },
        { credentials: config.credentials, region: config.region, service: SERVICE, now: new Date() },
      );
    } catch (error) {
      throw error instanceof SignatureRefusedError ? new RefusedRequestError(error) : error;
    }
    const operation = req.method === 'POST' && req.url === '/' && Object.hasOwn(operations, name) && operations[name];
    if (!operation) throw new UnknownOperationError(name, Object.keys(operations));
    const body = parseJsonObject<RequestBody>(raw, (why) => new MalformedRequestError(why));
    const answer = await operation(body);
    if (CHANGES.has(name)) config.log(`secrets: ${name} ${String(answer['Name'] ?? '')}`);
    sendAwsJson(res, '1.1', 200, answer);
  } catch (error) {
    if (error instanceof SecretsApiError) {
      if (error instanceof RefusedRequestError)
        config.log(`secrets: refused ${name || 'a request'} from ${req.socket.remoteAddress}: ${error.awsType}`);
      sendAwsJson(res, '1.1', error.status, { __type: error.awsType, message: error.message }, error.awsType);
      return;
    }
    // Our own errors never carry a value; anything else is reported by type and stack only.
    config.log(`secrets: internal error in ${name}: ${error instanceof Error ? error.stack : typeof error}`);
    const internal = new InternalServiceError();
    sendAwsJson(res, '1.1', internal.status, { __type: internal.awsType, message: internal.message }, internal.awsType);
  }
}
