/**
 * The whole local stack in one call: DynamoDB Local, the S3 server, the Step Functions endpoint,
 * the functions in Miniflare and the edge agent of site `local`, all on 127.0.0.1 with free
 * internal ports and their data under one home directory. `npm start` and the tests use this.
 *
 * The stack supervises its parts. Each child process is tied to the stack's life (children.ts) and
 * started again with back-off when it dies on its own, on the same port, while the rest keeps
 * serving; the Step Functions endpoint runs in this process, so its executions live through any
 * child's restart (a step that fails meanwhile is retried by its state machine). One stack holds a
 * home at a time (lock.ts). A stop takes the agent first, so that it aborts its tasks while the rest
 * still answers, then the rest.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type AgentConfig, defaultHost, type HookConfig } from '../../edge-agent/config';
import { configFromEnv } from '../../functions/config';
import { buildDeps, type Deps } from '../../functions/deps';
import { randomString } from '../../functions/store/ids';
import { HEARTBEAT_INTERVAL_SECONDS } from '../../statemachines/constants';
import { startAgent } from './agent';
import {
  createTable,
  ensureToken,
  LOCAL_SITE,
  provisionSites,
  reconcile as reconcileOperations,
  runDiscoverySchedules,
  StepsLambda,
} from './bookkeeping';
import type { Child } from './children';
import { type DynamoDBLocal, startDynamoDB } from './dynamodb';
import { type FunctionsLocal, startFunctions } from './functions';
import { HomeLock } from './lock';
import { assertPortFree, freePort, onFreePort } from './ports';
import { assertPrerequisites } from './prereqs';
import { isRunning, type ProcessRef, refOf } from './procs';
import { type S3Local, startS3 } from './s3';
import { startSecrets } from './secrets/index';
import { startStepFunctions } from './stepfunctions/index';
import { type Running, Supervisor } from './supervisor';

export { LOCAL_SITE } from './bookkeeping';

const RECONCILE_EVERY_MS = 60_000;
/** How often due discovery schedules are looked for (ENCOMPASS_SCHEDULES_EVERY_MS, read at start; tests shorten it). */
const schedulesEveryMs = () => Number(process.env.ENCOMPASS_SCHEDULES_EVERY_MS) || 30_000;
/** How long a stop lets a bookkeeping step that has begun (a commit) finish before the functions go. */
const STEP_DRAIN_MS = 1500;

/** The parts of the stack that are processes of their own, as `processes()` and stack.json name them. */
export const CHILDREN = ['DynamoDB Local', 'S3 server', 'workerd', 'edge agent'] as const;
export type ChildName = (typeof CHILDREN)[number];

export interface StackOptions {
  home: string;
  /** Port of the HTTP API (0 = any free port). */
  port: number;
  log?: (line: string) => void;
}

export interface Stack {
  url: string;
  adminToken: string;
  home: string;
  endpoints: { dynamodb: string; s3: string; stepfunctions: string; secrets: string };
  /** The only key pair the Step Functions endpoint accepts: what a test's or tool's SFNClient signs with. */
  stepFunctionsCredentials: { accessKeyId: string; secretAccessKey: string };
  env: Record<string, string>;
  deps: Deps;
  /** The agent process now (a new one after each restart). */
  agent: Child & { configFile: string };
  /** The stack agent's configuration: what another agent of the site (on another host) starts from. */
  agentConfig: AgentConfig;
  functions: FunctionsLocal;
  /** The child processes running now, by name (a part being started again is absent). */
  processes(): Partial<Record<ChildName, ProcessRef>>;
  /** Stops the agent and restarts it (tests use it to play an agent coming back). */
  restartAgent(): Promise<void>;
  /** Stops the agent and keeps it stopped (it is not started again) until `restartAgent`. */
  stopAgent(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local agent's hooks: `$ENCOMPASS_HOME/hooks.json`, an object of named hooks as in the agent's
 * configuration (`{"apply-patch": {"command": ["/usr/local/bin/patch-image"], "on": "image"}}`).
 */
function hooksOf(home: string): Record<string, HookConfig> | undefined {
  const file = join(home, 'hooks.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, HookConfig>;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}; it holds the agent's hooks as a JSON object`);
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const log = o.log ?? (() => {});
  const home = o.home;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  const lock = await HomeLock.acquire(home, log);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => log(`stop: ${e.message}`));
    stops.length = 0;
  };
  stops.push(() => lock.release());
  try {
    if (o.port !== 0) await assertPortFree(o.port);
    await assertPrerequisites();
    for (const d of ['dynamodb', 's3', 'logs', 'agent']) {
      mkdirSync(join(home, d), { recursive: true, mode: 0o700 });
      chmodSync(join(home, d), 0o700);
    }
    const supervise = <T extends Running>(name: ChildName, tag: string, launch: () => Promise<T>) =>
      Supervisor.start({
        name,
        launch,
        log,
        onUp: (instance) => lock.child(name, refOf(instance.pid, tag)),
      });

    const dbDir = join(home, 'dynamodb');
    const dbPort = await freePort();
    const db = await supervise<DynamoDBLocal>('DynamoDB Local', dbDir, () =>
      startDynamoDB({ dataDir: dbDir, port: dbPort, logFile: join(home, 'logs/dynamodb.log') }),
    );
    stops.push(() => db.stop());
    const dbEndpoint = (await db.ready()).endpoint;

    let functions: FunctionsLocal | undefined;
    const internalSecret = randomString(32);
    const s3Dir = join(home, 's3');
    const s3Port = await freePort();
    const s3 = await supervise<S3Local>('S3 server', s3Dir, () =>
      startS3({
        dataDir: s3Dir,
        port: s3Port,
        logFile: join(home, 'logs/s3.log'),
        buckets: ['encompass'],
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
      }),
    );
    stops.push(() => s3.stop());
    const s3Endpoint = (await s3.ready()).endpoint;
    await createTable(dbEndpoint);

    let deps: Deps | undefined;
    const steps = new StepsLambda(
      () => deps!,
      () => functions!,
      internalSecret,
    );
    const sfn = await startStepFunctions({
      port: await freePort(),
      invokeFunction: async (_name, payload) => steps.invoke(payload),
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
      DYNAMODB_ENDPOINT: dbEndpoint,
      S3_ENDPOINT: s3Endpoint,
      SFN_ENDPOINT: sfn.endpoint,
      // Like the secret store, the Step Functions endpoint accepts only the pair it handed out; DynamoDB
      // Local and the S3 server take any key, so they keep the dummy one.
      SFN_ACCESS_KEY_ID: sfn.credentials.accessKeyId,
      SFN_SECRET_ACCESS_KEY: sfn.credentials.secretAccessKey,
      ENCOMPASS_INTERNAL_SECRET: internalSecret,
      SECRETS_ENDPOINT: secrets.endpoint,
      SECRETS_ACCESS_KEY_ID: secrets.credentials.accessKeyId,
      SECRETS_SECRET_ACCESS_KEY: secrets.credentials.secretAccessKey,
    };
    // A port of our choosing that another process took between freePort and the bind: choose again.
    const { port: apiPort, value: fn } = await onFreePort(o.port, (port) =>
      startFunctions({
        port,
        bindings: env,
        log,
        onRestart: (pid) =>
          lock.child('workerd', pid ? refOf(pid, `--socket-addr=entry=127.0.0.1:${port}`) : undefined),
      }),
    );
    functions = fn;
    const workerdTag = `--socket-addr=entry=127.0.0.1:${apiPort}`;
    lock.child('workerd', refOf(fn.pid() ?? 0, workerdTag));
    lock.url = fn.url;
    // Stopped after the agent (which reports to it) and before the stores it uses.
    stops.push(async () => {
      await steps.drain(STEP_DRAIN_MS);
      await fn.stop();
      lock.child('workerd', undefined);
    });

    deps = buildDeps(configFromEnv(env));
    deps.endings.listen((op) => steps.tell(op));
    const adminToken = await ensureToken(deps, join(home, 'admin-token'), { role: 'admin', label: 'local admin' });
    await provisionSites(deps);
    const reconcile = async (afterRestart: boolean) => {
      const ended = await reconcileOperations(fn, internalSecret, afterRestart);
      if (ended.length) log(`ended ${ended.length} operation(s) whose workflow is gone: ${ended.join(', ')}`);
    };
    await reconcile(true);
    // Later on, a workflow can still end without an outcome (a bookkeeping step that kept failing).
    const reconciler = setInterval(() => void reconcile(false).catch(() => undefined), RECONCILE_EVERY_MS);
    reconciler.unref();
    stops.push(async () => clearInterval(reconciler));
    // The sites' discovery schedules; EventBridge runs them every minute in AWS.
    const scheduler = setInterval(
      () =>
        void runDiscoverySchedules(fn, internalSecret)
          .then((started) => started.length && log(`started scheduled discoveries: ${started.join(', ')}`))
          .catch(() => undefined),
      schedulesEveryMs(),
    );
    scheduler.unref();
    stops.push(async () => clearInterval(scheduler));

    const agentToken = await ensureToken(deps, join(home, 'agent/token'), {
      role: 'agent',
      site: LOCAL_SITE,
      label: 'local agent',
    });
    const agentConfig: AgentConfig = {
      site: LOCAL_SITE,
      host: defaultHost(hostname()),
      api: fn.url,
      token: agentToken,
      region: 'us-east-1',
      accountId: '000000000000',
      stepFunctionsEndpoint: sfn.endpoint,
      credentials: sfn.credentials,
      secrets: { endpoint: secrets.endpoint, credentials: secrets.credentials },
      stateDir: join(home, 'agent/state'),
      concurrency: 4,
      maxTasks: 64,
      heartbeatSeconds: HEARTBEAT_INTERVAL_SECONDS,
      hooks: hooksOf(home),
    };
    const agentDir = join(home, 'agent');
    let lastAgent: Child & { configFile: string };
    const agent = await supervise('edge agent', join(agentDir, 'agent.json'), async () => {
      lastAgent = await startAgent({ config: agentConfig, dir: agentDir, logFile: join(home, 'logs/agent.log') });
      return lastAgent;
    });
    stops.push(() => agent.stop());

    const supervised = { 'DynamoDB Local': db, 'S3 server': s3, 'edge agent': agent } as const;
    return {
      url: fn.url,
      adminToken,
      home,
      endpoints: { dynamodb: dbEndpoint, s3: s3Endpoint, stepfunctions: sfn.endpoint, secrets: secrets.endpoint },
      stepFunctionsCredentials: sfn.credentials,
      env,
      deps,
      functions: fn,
      agentConfig,
      get agent() {
        return agent.current ?? lastAgent;
      },
      processes() {
        const out: Partial<Record<ChildName, ProcessRef>> = {};
        for (const [name, s] of Object.entries(supervised)) {
          const pid = s.current?.pid;
          const ref = pid ? lock.current.children[name] : undefined;
          if (ref?.pid === pid) out[name as ChildName] = ref;
        }
        // Recorded once Miniflare says workerd is up again (a new PID may be seen before it listens).
        const workerd = lock.current.children.workerd;
        if (workerd && isRunning(workerd)) out.workerd = workerd;
        return out;
      },
      async stopAgent() {
        await agent.stop();
      },
      async restartAgent() {
        await agent.stop();
        await agent.resume();
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
