/**
 * The whole local stack in one call: DynamoDB Local, the S3 server, the Step Functions endpoint,
 * the functions in Miniflare and the edge agent of site `local`, all on 127.0.0.1 with free
 * internal ports and their data under one home directory. `npm start` and the tests use this.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { configFromEnv } from '../../functions/config';
import { buildDeps, type Deps } from '../../functions/deps';
import { randomString } from '../../functions/store/ids';
import { createTableInput } from '../../functions/store/schema';
import { HEARTBEAT_INTERVAL_SECONDS } from '../../statemachines/constants';
import { startAgent } from './agent';
import type { Child } from './children';
import { dynamoDBClientConfig, startDynamoDB } from './dynamodb';
import { type FunctionsLocal, startFunctions } from './functions';
import { freePort } from './ports';
import { assertPrerequisites } from './prereqs';
import { startS3 } from './s3';
import { startSecrets } from './secrets/index';
import { startStepFunctions } from './stepfunctions/index';

export const LOCAL_SITE = 'local';
const RECONCILE_EVERY_MS = 60_000;

export interface StackOptions {
  home: string;
  /** Port of the HTTP API (0 = any free port). */
  port: number;
  log?: (line: string) => void;
  /** Called if a component dies on its own. */
  onComponentExit?: (name: string, code: number | null) => void;
}

export interface Stack {
  url: string;
  adminToken: string;
  home: string;
  endpoints: { dynamodb: string; s3: string; stepfunctions: string; secrets: string };
  env: Record<string, string>;
  deps: Deps;
  agent: Child & { configFile: string };
  functions: FunctionsLocal;
  /** Stops only the agent (tests use it to play a crashed agent); `startAgent` brings it back. */
  restartAgent(): Promise<void>;
  stopAgent(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const log = o.log ?? (() => {});
  await assertPrerequisites();
  const home = o.home;
  for (const d of ['dynamodb', 's3', 'logs', 'agent']) mkdirSync(join(home, d), { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  const died = (name: string) => (code: number | null) => o.onComponentExit?.(name, code);
  try {
    const db = await startDynamoDB({
      dataDir: join(home, 'dynamodb'),
      port: await freePort(),
      logFile: join(home, 'logs/dynamodb.log'),
      onExit: died('DynamoDB Local'),
    });
    stops.push(() => db.stop());
    let functions: FunctionsLocal | undefined;
    const internalSecret = randomString(32);
    const s3 = await startS3({
      dataDir: join(home, 's3'),
      port: await freePort(),
      logFile: join(home, 'logs/s3.log'),
      buckets: ['encompass'],
      onExit: died('S3 server'),
      // S3's notification, delivered to the functions as AWS would deliver it to a Lambda.
      onObjectCreated: (e) => {
        if (!functions) return;
        const record = {
          eventName: e.eventName,
          s3: {
            bucket: { name: e.bucket },
            object: { key: encodeURIComponent(e.key).replace(/%2F/g, '/'), size: e.size, eTag: e.eTag },
          },
        };
        void functions
          .fetch('/internal/events/s3', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-encompass-internal': internalSecret },
            body: JSON.stringify({ Records: [record] }),
          })
          .then(async (r) => log(`[s3 event] ${e.key}: ${await r.text()}`))
          .catch((err: Error) => log(`[s3 event] ${e.key}: ${err.message}`));
      },
    });
    stops.push(() => s3.stop());
    await createTable(db.endpoint);

    const sfn = await startStepFunctions({
      port: await freePort(),
      invokeFunction: async (_name, payload) => invokeSteps(functions!, internalSecret, payload),
      log: (l) => log(`[stepfunctions] ${l}`),
    });
    stops.push(() => sfn.stop());

    // Machine credentials: the functions write them, the agent reads them, with the one key pair the store accepts.
    const secrets = await startSecrets({ dir: join(home, 'secrets'), port: 0, log: (l) => log(`[secrets] ${l}`) });
    stops.push(() => secrets.stop());

    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ENCOMPASS_TABLE: 'encompass',
      ENCOMPASS_BUCKET: 'encompass',
      DYNAMODB_ENDPOINT: db.endpoint,
      S3_ENDPOINT: s3.endpoint,
      SFN_ENDPOINT: sfn.endpoint,
      ENCOMPASS_INTERNAL_SECRET: internalSecret,
      SECRETS_ENDPOINT: secrets.endpoint,
      SECRETS_ACCESS_KEY_ID: secrets.credentials.accessKeyId,
      SECRETS_SECRET_ACCESS_KEY: secrets.credentials.secretAccessKey,
    };
    functions = await startFunctions({ port: o.port || (await freePort()), bindings: env });
    stops.push(() => functions!.stop());

    // Bookkeeping that must hold on every start: the admin token, the local site, workflows of
    // every site (the Step Functions endpoint forgets them on restart), stuck operations ended.
    const deps = buildDeps(configFromEnv(env));
    const adminToken = await ensureToken(deps, join(home, 'admin-token'), { role: 'admin', label: 'local admin' });
    if (!(await deps.sites.find(LOCAL_SITE)))
      await deps.sites.create({
        id: `st-${randomString(12)}`,
        name: LOCAL_SITE,
        rev: 1,
        createdAt: deps.now(),
        updatedAt: deps.now(),
        description: 'this host',
      });
    for (const site of await deps.sites.listAll()) await deps.workflows.provisionSite(site.name);
    const reconcile = async (afterRestart: boolean) => {
      const res = await functions!.fetch(`/internal/reconcile${afterRestart ? '?afterRestart=1' : ''}`, {
        method: 'POST',
        headers: { 'x-encompass-internal': internalSecret },
      });
      const { ended } = (await res.json()) as { ended: string[] };
      if (ended.length) log(`ended ${ended.length} operation(s) whose workflow is gone: ${ended.join(', ')}`);
    };
    await reconcile(true);
    // Later on, a workflow can still vanish (e.g. the endpoint was killed): check once a minute.
    const reconciler = setInterval(() => void reconcile(false).catch(() => undefined), RECONCILE_EVERY_MS);
    reconciler.unref();
    stops.push(async () => clearInterval(reconciler));

    const agentToken = await ensureToken(deps, join(home, 'agent/token'), {
      role: 'agent',
      site: LOCAL_SITE,
      label: 'local agent',
    });
    const agentConfig = {
      site: LOCAL_SITE,
      api: functions.url,
      token: agentToken,
      region: 'us-east-1',
      accountId: '000000000000',
      stepFunctionsEndpoint: sfn.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      secrets: { endpoint: secrets.endpoint, credentials: secrets.credentials },
      stateDir: join(home, 'agent/state'),
      concurrency: 4,
      maxTasks: 64,
      heartbeatSeconds: HEARTBEAT_INTERVAL_SECONDS,
    };
    const launchAgent = () =>
      startAgent({
        config: agentConfig,
        dir: join(home, 'agent'),
        logFile: join(home, 'logs/agent.log'),
        onExit: died('edge agent'),
      });
    let agent = await launchAgent();
    let agentStopped = false;
    stops.push(() => (agentStopped ? Promise.resolve() : agent.stop()));

    return {
      url: functions.url,
      adminToken,
      home,
      endpoints: { dynamodb: db.endpoint, s3: s3.endpoint, stepfunctions: sfn.endpoint, secrets: secrets.endpoint },
      env,
      deps,
      functions,
      get agent() {
        return agent;
      },
      async stopAgent() {
        agentStopped = true;
        await agent.stop();
      },
      async restartAgent() {
        if (!agentStopped) await agent.stop();
        agent = await launchAgent();
        agentStopped = false;
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function createTable(endpoint: string): Promise<void> {
  const client = new DynamoDBClient(dynamoDBClientConfig(endpoint));
  try {
    await client.send(new CreateTableCommand(createTableInput('encompass')));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  } finally {
    client.destroy();
  }
}

/** A token kept in a file under the home; made (and stored hashed) the first time. */
async function ensureToken(
  deps: Deps,
  file: string,
  t: { role: 'admin' | 'agent'; site?: string; label: string },
): Promise<string> {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (await deps.tokens.lookup(token)) return token;
  }
  const { secret } = await deps.tokens.create({ ...t, createdBy: 'local-stack' }, deps.now());
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The Lambda the state machines call, played by the functions' internal route. */
async function invokeSteps(functions: FunctionsLocal, secret: string, payload: unknown): Promise<unknown> {
  const res = await functions.fetch('/internal/steps', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-encompass-internal': secret },
    body: JSON.stringify(payload),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok)
    throw Object.assign(new Error(body.error?.message ?? `HTTP ${res.status}`), {
      name: body.error?.code ?? 'StepFailed',
    });
  return body;
}
