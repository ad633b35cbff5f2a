/**
 * `encompass`: a small command line client of the HTTP API. Requests that start an operation are
 * followed until it ends, with a progress bar on stderr; the final JSON goes to stdout.
 *
 *   encompass get /v1/clones                       any GET
 *   encompass post /v1/clones '{"master":"web","name":"web-1"}'
 *   encompass clone web web-1 [method]             POST /v1/clones and wait
 *   encompass event web-1 assign '{"machine":"blade1"}'
 *   encompass wait op-…                            follow an operation
 *
 * Settings: ENCOMPASS_URL (default http://127.0.0.1:8787), ENCOMPASS_TOKEN (default: the local
 * stack's $ENCOMPASS_HOME/admin-token).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.env.ENCOMPASS_URL ?? `http://127.0.0.1:${process.env.ENCOMPASS_PORT ?? 8787}`;

function token(): string | undefined {
  if (process.env.ENCOMPASS_TOKEN) return process.env.ENCOMPASS_TOKEN;
  try {
    return readFileSync(join(process.env.ENCOMPASS_HOME ?? '.encompass', 'admin-token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** An API answer: JSON whose shape depends on the route. */
// biome-ignore lint/suspicious/noExplicitAny: answers are printed and read by field, not type-checked
type Json = Record<string, any>;

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: Json }> {
  const t = token();
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(t ? { authorization: `Bearer ${t}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** `[#########...........]  45%  copy` on one line of stderr, redrawn in place. */
export function bar(progress: number, step: string, width = 30): string {
  const p = Math.max(0, Math.min(1, progress));
  const filled = Math.round(p * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(p * 100)).padStart(3)}%  ${step}`;
}

/**
 * Follows an operation to its end: each read waits on the server until it ended (`?wait=`), but at
 * most a few seconds on a terminal, so the progress bar moves meanwhile.
 */
async function follow(operation: string): Promise<Json> {
  const tty = process.stderr.isTTY;
  for (;;) {
    const { status, json: op } = await call('GET', `/v1/operations/${operation}?wait=${tty ? 2 : 20}`);
    if (status >= 400) return op;
    const step = op.steps?.at(-1)?.name ?? op.kind;
    if (tty) process.stderr.write(`\r${bar(op.progress ?? 0, step)}\x1b[K`);
    if (op.status !== 'running') {
      if (tty) process.stderr.write('\n');
      return op;
    }
  }
}

async function request(method: string, path: string, body?: string): Promise<number> {
  const { status, json } = await call(method, path, body);
  if (status === 202 && json.operation) {
    const op = await follow(json.operation);
    console.log(JSON.stringify(op, null, 2));
    return op.status === 'succeeded' ? 0 : 1;
  }
  console.log(JSON.stringify(json, null, 2));
  return status < 400 ? 0 : 1;
}

const usage = `usage: encompass get PATH | post PATH [JSON] | patch PATH JSON | delete PATH
       encompass clone MASTER NAME [METHOD] | event CLONE EVENT [JSON] | wait OPERATION`;

/** Reads a route from the arguments, or undefined when they do not fit. */
function route(argv: string[]): [method: string, path: string, body?: string] | undefined {
  const [cmd, a, b, c] = argv;
  switch (cmd) {
    case 'get':
    case 'delete':
      return a ? [cmd.toUpperCase(), a] : undefined;
    case 'post':
    case 'patch':
      return a ? [cmd.toUpperCase(), a, b ?? '{}'] : undefined;
    case 'clone':
      return a && b
        ? ['POST', '/v1/clones', JSON.stringify({ master: a, name: b, ...(c ? { method: c } : {}) })]
        : undefined;
    case 'event':
      return a && b ? ['POST', `/v1/clones/${a}/${b}`, c ?? '{}'] : undefined;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'wait' && argv[1]) {
    const op = await follow(argv[1]);
    console.log(JSON.stringify(op, null, 2));
    return op.status === 'succeeded' ? 0 : 1;
  }
  const r = route(argv);
  if (!r) {
    console.error(usage);
    return 2;
  }
  return request(...r);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`encompass: ${e.message} (is the API at ${url} up? set ENCOMPASS_URL)`);
      process.exit(1);
    },
  );
}
