/**
 * Every route of the route list the app mounts gets generated bodies, query strings and path
 * parameters, valid and not, from every role. Whatever comes in: the answer is never a 5xx; a 4xx
 * changes no record; a 400's problems each start with the dotted path of the field. A new route is
 * fuzzed as soon as it is in the list; a template below makes its valid bodies likelier.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { routes } from '../../../functions/app';
import type { RouteSpec } from '../../../functions/http/route';
import { type Key, nameKey, recordKey } from '../../../functions/store/db';
import { sha256Hex } from '../../../functions/store/tokens';
import { events } from '../../../statemachines/lifecycle';
import { Api, dispatcher } from '../../support/api';
import { makeClone, makeMachine, makeMaster } from '../../support/fixtures';
import { type Body, bodyFor, queryFrom, refFrom } from '../../support/fuzz';
import { template } from '../../support/fuzz-templates';
import { stackDeps } from '../../support/store';

const admin = Api.admin();
/**
 * Generated inputs per route (FUZZ_RUNS), each sent once with a snapshot of what it may touch before
 * and after: half as many for GET and DELETE, whose only input is the path and query; twice as many
 * for routes that take a body.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const runsFor = (r: RouteSpec) => (r.method === 'get' || r.method === 'delete' ? Math.ceil(RUNS / 2) : RUNS * 2);
const roles = ['viewer', 'operator', 'admin', 'agent'] as const;
type Caller = (typeof roles)[number] | 'none' | 'bogus';

const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: inject('stack').endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);

interface Fixtures {
  tokens: Record<(typeof roles)[number], { token: string; id: string }>;
  victimToken: { token: string; id: string };
  /** Where the tokens above are stored (by the hash of each). */
  tokenKeys: Key[];
  actors: Set<string>;
  master: { id: string; name: string; repository: string };
  repo: { id: string; name: string };
  site: { id: string; name: string; agents?: Record<string, unknown> };
  clone: { id: string; name: string };
  victimClone: { id: string; name: string };
  machine: { id: string; name: string };
  victimMachine: { id: string; name: string };
  operation: string;
  cursor: string;
}

let fx: Fixtures;
const stats = { inputs: 0, byStatus: {} as Record<string, number>, fiveXX: 0, started: 0, sendMs: 0, snapshotMs: 0 };
const startedOps: string[] = [];
const madeClones: string[] = [];

/** The fixtures a path parameter may name on this route; destructive routes get victims only. */
function refsFor(r: RouteSpec, event?: string): string[] {
  const collection = r.path.split('/')[2];
  const destroys = r.method === 'delete' || event === 'destroy' || event === 'capture';
  switch (collection) {
    case 'machines':
      return destroys ? [fx.victimMachine.id] : [fx.machine.id, fx.machine.name, fx.victimMachine.name];
    case 'masters':
      return [fx.master.id, fx.master.name, `${fx.master.name}@1`];
    case 'clones':
      return destroys ? [fx.victimClone.id] : [fx.clone.id, fx.clone.name, fx.victimClone.name];
    case 'sites':
      return [fx.site.name, fx.site.id];
    case 'repositories':
      return [fx.repo.id, fx.repo.name];
    case 'operations':
      return [fx.operation];
    case 'tokens':
      return [fx.victimToken.id];
    default:
      return [];
  }
}

interface Input {
  caller: Caller;
  params: Record<string, string>;
  query: string;
  body: Body;
  type: string | undefined;
}

function inputFor(r: RouteSpec): fc.Arbitrary<Input> {
  const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const event = names.includes('event')
    ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...events) }, { weight: 1, arbitrary: refFrom([]) })
    : fc.constant(undefined);
  return event.chain((ev) =>
    fc.record({
      // Every role, most often those that may call most routes.
      caller: fc.constantFrom<Caller>(
        'admin',
        'admin',
        'admin',
        'operator',
        'operator',
        'viewer',
        'agent',
        'none',
        'bogus',
      ),
      params: fc.record(
        Object.fromEntries(names.map((n) => [n, n === 'event' ? fc.constant(ev ?? '') : refFrom(refsFor(r, ev))])),
      ) as fc.Arbitrary<Record<string, string>>,
      query: queryFrom([fx.cursor]),
      body: bodyFor(template(r, fx, ev)),
      type: fc.constantFrom('application/json', 'application/merge-patch+json', 'text/plain', undefined),
    }),
  );
}

/** The items at `keys` (consistent reads, in one request), by partition key. */
async function getAll(keys: Key[]): Promise<Record<string, Record<string, unknown>>> {
  const out = await doc.send(
    new BatchGetCommand({ RequestItems: { [stackDeps().db.table]: { Keys: keys, ConsistentRead: true } } }),
  );
  const items = out.Responses?.[stackDeps().db.table] ?? [];
  return Object.fromEntries(items.map((i) => [i.pk as string, i]));
}

/**
 * What a request could change: the fixtures, the names it could take, and what our tokens started
 * (operations, audit entries) or made (tokens). GET routes write nothing, so their fixtures suffice.
 */
async function snapshot(r: RouteSpec, body: Body, since: string) {
  const deps = stackDeps();
  const keys = [
    recordKey('machine', fx.machine.id),
    recordKey('machine', fx.victimMachine.id),
    recordKey('master', fx.master.id),
    recordKey('clone', fx.clone.id),
    recordKey('clone', fx.victimClone.id),
    recordKey('repository', fx.repo.id),
    recordKey('site', fx.site.id),
    recordKey('operation', fx.operation),
    ...fx.tokenKeys,
  ];
  const json = 'json' in body ? (body.json as { name?: unknown } | null) : undefined;
  const name = typeof json?.name === 'string' && json.name.length <= 200 ? json.name : undefined;
  if (name) for (const kind of ['site', 'repository', 'machine', 'master', 'clone']) keys.push(nameKey(kind, name));
  const writes = r.method !== 'get';
  const [records, operations, audit, tokens] = await Promise.all([
    getAll(keys),
    writes ? deps.operations.list({ limit: 20 }) : { items: [] },
    writes ? deps.audit.list({ limit: 20 }) : { items: [] },
    r.path.startsWith('/v1/tokens') ? deps.tokens.list() : [],
  ]);
  // The site's real agent keeps its heartbeat fresh meanwhile, and its discovery schedule runs (and
  // the discovery suite sets it) on its own.
  const site = records[recordKey('site', fx.site.id).pk];
  if (site) for (const k of ['agents', 'discovery', 'rev', 'updatedAt']) delete site[k];
  // An agent's start (other suites start agents on this site) checks every repository of the site,
  // which stamps the check on the record; its status stays.
  const repo = records[recordKey('repository', fx.repo.id).pk];
  if (repo) for (const k of ['root', 'operation', 'rev', 'updatedAt']) delete repo[k];
  const ours = (actor: string, at: string) => fx.actors.has(actor) && at >= since;
  return {
    records,
    operations: operations.items.filter((o) => ours(o.actor, o.createdAt)).map((o) => o.id),
    audit: audit.items.filter((a) => ours(a.actor, a.at)).map((a) => a.id),
    tokens: tokens.filter((t) => ours(t.createdBy, t.createdAt)).map((t) => t.id),
  };
}

async function send(r: RouteSpec, input: Input) {
  const path = r.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(input.params[n]!));
  const token =
    input.caller === 'none' ? undefined : input.caller === 'bogus' ? 'enc_bogus' : fx.tokens[input.caller].token;
  const hasBody = r.method !== 'get' && r.method !== 'delete';
  const res = await fetch(`${admin.url}${path}${input.query}`, {
    dispatcher,
    method: r.method.toUpperCase(),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(hasBody && input.type ? { 'content-type': input.type } : {}),
    },
    body: hasBody ? ('json' in input.body ? JSON.stringify(input.body.json) : input.body.text) : undefined,
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, url: `${r.method.toUpperCase()} ${path}${input.query}` };
}

/** Ends what a 2xx started or made, so the next input meets the fixtures as they are. */
async function settle(r: RouteSpec, reply: { status: number; body: any }) {
  if (reply.status === 202 && reply.body?.operation) {
    stats.started++;
    startedOps.push(reply.body.operation);
    const op = await admin.wait(reply.body.operation, 120_000);
    if (op.kind === 'clone' && op.status === 'succeeded') madeClones.push(op.resource.id);
  }
  // A site nobody runs an agent for shows as silent in the health check: remove it at once.
  if (r.path === '/v1/sites' && r.method === 'post' && reply.status === 201)
    expect((await admin.del(`/v1/sites/${reply.body.id}`)).status).toBe(200);
  // So does a host whose agent reported once: forget it at once, unless it is the stack's own agent.
  if (r.path === '/v1/sites/{id}/agents/{host}' && r.method === 'put' && reply.status === 200) {
    const host = reply.body.host as string;
    if (!(host in (fx.site.agents ?? {})))
      expect((await admin.del(`/v1/sites/${reply.body.site}/agents/${host}`)).status).toBe(200);
  }
}

/** `body.settings.a.0["odd key"]: what is wrong` (functions/http/validate.ts, fieldPath). */
const PROBLEM = /^(body|query|path)(\.[A-Za-z_][\w-]*|\.\d+|\["(?:[^"\\]|\\.)*"\])*: \S/s;

describe('the API under generated input', () => {
  const started = Date.now();
  beforeAll(async () => {
    const made = async (role: string) => {
      const r = await admin.post('/v1/tokens', { role, label: 'fuzz', ...(role === 'agent' ? { site: 'local' } : {}) });
      expect(r.status).toBe(201);
      return { token: r.body.token as string, id: r.body.id as string };
    };
    const tokens = Object.fromEntries(
      await Promise.all(roles.map(async (r) => [r, await made(r)])),
    ) as Fixtures['tokens'];
    const { master, repo } = await makeMaster(admin, { requirements: { minCpus: 1 } });
    const [clone, victimClone, machine, victimMachine, victimToken] = await Promise.all([
      makeClone(admin, master.id),
      makeClone(admin, master.id),
      makeMachine(admin),
      makeMachine(admin),
      made('viewer'),
    ]);
    const ops = (await admin.get('/v1/operations?limit=50')).body.items;
    const cursor = (await admin.get('/v1/machines?limit=1')).body.cursor;
    fx = {
      tokens,
      victimToken,
      tokenKeys: await Promise.all(
        [...Object.values(tokens), victimToken].map(async (t) => recordKey('token-hash', await sha256Hex(t.token))),
      ),
      actors: new Set(Object.entries(tokens).map(([role, t]) => `${role}:${t.id}`)),
      master,
      repo,
      site: (await admin.get('/v1/sites/local')).body,
      clone,
      victimClone,
      machine,
      victimMachine,
      operation: ops.find((o: any) => o.resource.id === clone.id).id,
      cursor,
    };
  });

  afterAll(async () => {
    // Nothing may be left running: wait for every operation this suite started, then destroy its clones.
    for (const op of startedOps) await admin.wait(op, 120_000);
    for (const id of madeClones) {
      const r = await admin.post(`/v1/clones/${id}/destroy`, {});
      if (r.status === 202) await admin.wait(r.body.operation, 120_000);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${stats.inputs} generated inputs over ${routes.length} routes, ${stats.fiveXX} answered 5xx, ${stats.started} started an operation; ${seconds} s; statuses ${JSON.stringify(stats.byStatus)}; ${Math.round(stats.sendMs / stats.inputs)} ms a request, ${Math.round(stats.snapshotMs / stats.inputs)} ms a snapshot`,
    );
  });

  it.each(routes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('%s', async (_, r) => {
    await fc.assert(
      fc.asyncProperty(inputFor(r), async (input) => {
        const since = new Date(Date.now() - 5).toISOString();
        let t = performance.now();
        const before = await snapshot(r, input.body, since);
        stats.snapshotMs += performance.now() - t;
        t = performance.now();
        const reply = await send(r, input);
        stats.sendMs += performance.now() - t;
        stats.inputs++;
        stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1;
        if (reply.status >= 500) stats.fiveXX++;
        const about = `${reply.url} as ${input.caller}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 400)}`;
        expect(reply.status, about).toBeLessThan(500);
        if (reply.status >= 400) {
          expect(reply.body?.error?.code, about).toMatch(/^[a-z_]+$/);
          expect(reply.body.error.message.length, about).toBeGreaterThan(10);
          for (const p of reply.body.error.problems ?? []) expect(p, about).toMatch(PROBLEM);
          expect(await snapshot(r, input.body, since), about).toEqual(before);
        } else await settle(r, reply);
      }),
      { numRuns: runsFor(r) },
    );
  });
});
