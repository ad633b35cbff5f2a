/**
 * What must hold on every start of the local stack, and the calls the stack makes into the functions
 * on behalf of AWS: the table, the admin and agent tokens, the local site and the workflows of every
 * site, the Lambda that the state machines call, and the reconcile schedule.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { runStep } from '../../functions/actions/steps';
import type { Deps } from '../../functions/deps';
import { CodedError } from '../../functions/errors';
import { randomString } from '../../functions/store/ids';
import type { Operation } from '../../functions/store/records';
import { createTableInput } from '../../functions/store/schema';
import { dynamoDBClientConfig } from './dynamodb';
import type { FunctionsLocal } from './functions';

export const LOCAL_SITE = 'local';

export async function createTable(endpoint: string): Promise<void> {
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
export async function ensureToken(
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

/** The local site, and the workflows of every site and of its agents' hosts (the Step Functions endpoint forgets them on restart). */
export async function provisionSites(deps: Deps): Promise<void> {
  if (!(await deps.sites.find(LOCAL_SITE)))
    await deps.sites.create({
      id: `st-${randomString(12)}`,
      name: LOCAL_SITE,
      rev: 1,
      createdAt: deps.now(),
      updatedAt: deps.now(),
      description: 'this host',
    });
  for (const site of await deps.sites.listAll()) {
    await deps.workflows.provisionSite(site.name);
    for (const host of Object.keys(site.agents ?? {})) await deps.workflows.provisionLane(site.name, host);
  }
}

/** Ends the operations whose workflow is gone; `afterRestart` says the workflow endpoint just started. */
export async function reconcile(functions: FunctionsLocal, secret: string, afterRestart: boolean): Promise<string[]> {
  const res = await functions.fetch(`/internal/reconcile${afterRestart ? '?afterRestart=1' : ''}`, {
    method: 'POST',
    headers: { 'x-encompass-internal': secret },
  });
  return ((await res.json()) as { ended: string[] }).ended;
}

/** Starts the sites' discoveries that are due, as the EventBridge schedule does in AWS. */
export async function runDiscoverySchedules(functions: FunctionsLocal, secret: string): Promise<string[]> {
  const res = await functions.fetch('/internal/discovery-schedules', {
    method: 'POST',
    headers: { 'x-encompass-internal': secret },
  });
  return ((await res.json()) as { started: string[] }).started;
}

/**
 * The Lambda the state machines call: the functions' steps, run in this Node process as AWS runs
 * them in the Lambda (entry/lambda.ts), not through workerd's HTTP. `tell` hands an operation a step
 * ended to the functions in workerd, so a read that waits for it there (`?wait=`) answers at once. It
 * counts the calls in flight, so a stop can let a commit that has begun finish before the functions go.
 */
export class StepsLambda {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    /** The stack's deps (made once the endpoints they name are up, after this). */
    private readonly deps: () => Deps,
    private readonly functions: () => FunctionsLocal,
    private readonly secret: string,
  ) {}

  invoke(payload: unknown): Promise<unknown> {
    const call = this.call(payload);
    this.inFlight.add(call);
    void call.catch(() => undefined).finally(() => this.inFlight.delete(call));
    return call;
  }

  /**
   * Resolves once no call has been in flight for `quietMs` (a task the agent just reported has its
   * commit invoked a moment later), or after `timeoutMs`.
   */
  async drain(timeoutMs: number, quietMs = 200): Promise<void> {
    const until = Date.now() + timeoutMs;
    let quietSince = Date.now();
    while (Date.now() < until) {
      if (this.inFlight.size) {
        await Promise.race([
          Promise.allSettled([...this.inFlight]),
          sleep(until - Date.now(), undefined, { ref: false }),
        ]);
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) return;
      else await sleep(20);
    }
  }

  /** A failed step's error is named by its code, as the functions' HTTP answer names it (the ASL retries by either). */
  private async call(payload: unknown): Promise<unknown> {
    try {
      return await runStep(this.deps(), payload);
    } catch (e) {
      if (e instanceof CodedError) throw Object.assign(new Error(e.message, { cause: e }), { name: e.code });
      throw e;
    }
  }

  /** Tells the functions in workerd of an end, once it is written (Endings.listen): best effort. */
  tell(ended: Operation): void {
    void this.functions()
      .fetch('/internal/ended', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-encompass-internal': this.secret },
        body: JSON.stringify(ended),
      })
      .then((res) => res.body?.cancel())
      // A waiting read that misses it finds the end by reading the record.
      .catch(() => undefined);
  }
}
