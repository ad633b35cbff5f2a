/**
 * Resource commands from declarative specs: each resource is a row (its path, its table columns) with
 * `list` and `show` by default, `delete` where it has one, and its actions, each an HTTP call whose
 * body is read from the positional arguments, the action's flags, `--body` and `--set`.
 */
import { type Command, Option } from 'commander';
import { applySets, collect, integer, keyValue, parseJson, readBody, setPath } from './body';
import { at, type Json } from './client';
import { UsageError } from './errors';
import { type Column, fields } from './output';
import { answered, type Ctx, show, showList } from './run';

/** A flag of an action: where its value goes in the body (or the query) and how it is read. */
export interface Flag {
  /** Commander's flag syntax: `--repository <name>`, `--dry-run`. */
  flags: string;
  doc: string;
  /** The dotted body field (or query parameter) it sets; default: the flag's name in camelCase. */
  field?: string;
  /**
   * string (default); int; bool (a switch); json (a JSON value); list (repeatable, an array);
   * vars (repeatable key=value, an object); items (repeatable JSON objects, an array).
   */
  kind?: 'string' | 'int' | 'bool' | 'json' | 'list' | 'vars' | 'items';
  required?: boolean;
}

export interface Action {
  name: string;
  summary: string;
  /** Positional arguments, commander-style: `<clone>`, `[name]`. */
  args?: string[];
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: (args: string[]) => string;
  /** Body fields taken from the positional arguments. */
  fromArgs?: (args: string[]) => Json;
  flags?: Flag[];
  /** How a GET's answer is shown in a table (default: a field a line). */
  render?: (answer: Json) => string;
  /** A list answer (`{items}`) shown with these columns. */
  columns?: Column[];
  /** Extra lines under the action's help. */
  help?: string;
}

export interface Resource {
  name: string;
  aliases?: string[];
  summary: string;
  path: string;
  columns: Column[];
  /** Query flags of `list` beyond --limit/--cursor/--all; false: no list. */
  list?: Flag[] | false;
  show?: false;
  /** The summary of `delete ID`; absent: no delete. */
  del?: string;
  actions?: Action[];
}

/** The ctx of the command being run, from its own and the program's options. */
export type CtxOf = (cmd: Command) => Ctx;

const attribute = (f: Flag) => new Option(f.flags).attributeName();

function flagOption(f: Flag): Option {
  const o = new Option(f.flags, f.doc);
  const name = f.flags.split(/[ ,]/)[0]!;
  switch (f.kind) {
    case 'int':
      o.argParser(integer(name));
      break;
    case 'json':
      o.argParser((v: string) => parseJson(v, name));
      break;
    case 'list':
    case 'vars':
    case 'items':
      o.argParser(collect);
      break;
  }
  if (f.required) o.makeOptionMandatory();
  return o;
}

/** The value a flag contributes, or undefined when it was not given. */
function flagValue(f: Flag, v: unknown): unknown {
  if (v === undefined) return undefined;
  const name = f.flags.split(/[ ,]/)[0]!;
  if (f.kind === 'vars')
    return Object.fromEntries((v as string[]).map((kv) => keyValue(kv, name)).map(([k, x]) => [k, String(x)]));
  if (f.kind === 'items')
    return (v as string[]).map((x) => {
      const item = parseJson(x, name);
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new UsageError(`${name} takes a JSON object, not ${x}`);
      return item;
    });
  return v;
}

/** The body of an action: --body, then the positional arguments, then its flags, then --set. */
export function bodyOf(a: Action, args: string[], opts: Json): Json {
  const body = readBody(opts.body);
  Object.assign(body, a.fromArgs?.(args) ?? {});
  for (const f of a.flags ?? []) {
    const v = flagValue(f, opts[attribute(f)]);
    // A `--no-x` switch defaults to true; only its use (false) says anything.
    if (f.flags.startsWith('--no-') && v === true) continue;
    if (v !== undefined) setPath(body, f.field ?? attribute(f), v);
  }
  return applySets(body, opts.set);
}

/** `?a=1&b=2` from an action's flags (GETs). */
export function queryOf(flagList: Flag[], opts: Json): string {
  const q = new URLSearchParams();
  for (const f of flagList) {
    const v = opts[attribute(f)];
    if (v !== undefined) q.set(f.field ?? attribute(f), String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const bodyFlags = (cmd: Command) =>
  cmd
    .option('--body <json>', 'the request body as JSON; @FILE reads a file, - reads stdin')
    .option(
      '--set <key=value>',
      'set a body field (dotted keys nest; the value is JSON if it parses, else a string); repeatable',
      collect,
    );

/** Adds an action as a subcommand of `parent`. */
export function addAction(parent: Command, a: Action, ctxOf: CtxOf): Command {
  const cmd = parent.command(a.name).description(a.summary);
  for (const arg of a.args ?? []) cmd.argument(arg);
  for (const f of a.flags ?? []) cmd.addOption(flagOption(f));
  if (a.method !== 'GET' && a.method !== 'DELETE') bodyFlags(cmd);
  if (a.help) cmd.addHelpText('after', `\n${a.help}`);
  cmd.action(async (...params: unknown[]) => {
    const c = params.at(-1) as Command;
    const args = (c.processedArgs as (string | string[] | undefined)[]).flat().filter((x) => x !== undefined);
    const ctx = ctxOf(c);
    const opts = c.opts();
    if (a.method === 'GET') {
      const answer = await ctx.client.get(`${a.path(args)}${queryOf(a.flags ?? [], opts)}`);
      if (a.columns) showList(ctx, answer, a.columns);
      else show(ctx, answer, a.render);
      return;
    }
    const body = a.method === 'DELETE' ? undefined : bodyOf(a, args, opts);
    await answered(ctx, await ctx.client.call(a.method, a.path(args), body));
  });
  return cmd;
}

const pageFlags: Flag[] = [
  { flags: '--limit <n>', doc: 'at most this many per page', kind: 'int' },
  { flags: '--cursor <cursor>', doc: 'the page after the one that answered this cursor' },
];

/** Every page of a list, as one `{items}` answer. */
async function allPages(ctx: Ctx, path: string, query: string): Promise<Json> {
  const items: Json[] = [];
  let cursor: string | undefined;
  do {
    const sep = query ? '&' : '?';
    const page = await ctx.client.get(`${path}${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...((page.items ?? []) as Json[]));
    cursor = page.cursor;
  } while (cursor);
  return { items };
}

/** `list` of a collection at `path`: a table, every page with --all. */
export function addList(
  parent: Command,
  path: string,
  columns: Column[],
  extra: Flag[],
  ctxOf: CtxOf,
  what: string,
  name = 'list',
) {
  const cmd = parent.command(name).description(`List ${what}`);
  if (name === 'list') cmd.alias('ls');
  for (const f of [...pageFlags, ...extra]) cmd.addOption(flagOption(f));
  cmd.option('--all', 'every page, not only the first');
  cmd.action(async (_opts: unknown, c: Command) => {
    const ctx = ctxOf(c);
    const opts = c.opts();
    if (opts.all) {
      if (opts.cursor) throw new UsageError('--all starts at the first page; leave out --cursor');
      return showList(ctx, await allPages(ctx, path, queryOf([pageFlags[0]!, ...extra], opts)), columns);
    }
    showList(ctx, await ctx.client.get(`${path}${queryOf([...pageFlags, ...extra], opts)}`), columns);
  });
  return cmd;
}

/** A resource's command with its list, show, delete and actions. */
export function addResource(program: Command, r: Resource, ctxOf: CtxOf): Command {
  const cmd = program.command(r.name).description(r.summary);
  for (const a of r.aliases ?? []) cmd.alias(a);
  if (r.list !== false) addList(cmd, r.path, r.columns, r.list ?? [], ctxOf, r.name);
  if (r.show !== false)
    addAction(
      cmd,
      {
        name: 'show',
        summary: `Show one of the ${r.name} (id or name)`,
        args: ['<id>'],
        method: 'GET',
        path: ([id]) => at(r.path, id!),
        render: fields,
      },
      ctxOf,
    );
  for (const a of r.actions ?? []) addAction(cmd, a, ctxOf);
  if (r.del)
    addAction(
      cmd,
      { name: 'delete', summary: r.del, args: ['<id>'], method: 'DELETE', path: ([id]) => at(r.path, id!) },
      ctxOf,
    );
  return cmd;
}
