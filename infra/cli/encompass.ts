/**
 * `encompass`: the command line client of the HTTP API. A command per resource and action
 * (resources.ts, events.ts), tables by default and the API's JSON with `--json`; actions that start
 * an operation follow it to its end (`--no-wait` does not); the raw `get/post/put/patch/delete PATH`
 * stays as an escape hatch. Exit codes by class of error are in errors.ts.
 */

import { basename, extname } from 'node:path';
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { apiPath, at, Client } from './client';
import { addAction, addList, addResource, bodyOf, type CtxOf, type Flag } from './commands';
import { bashCompletion, zshCompletion } from './completion';
import { ApiAnswerError, CliError, exitCodes, exitCodesHelp, UsageError } from './errors';
import { addCloneEvents } from './events';
import { fields, stdio, table } from './output';
import { displayFor } from './progress';
import { auditColumns, operationColumns, resources } from './resources';
import { accepted, type Ctx, operationSummary, show, waitFor } from './run';
import { resolveSettings, settingsHelp } from './settings';
import { byteProgress, uploadFile } from './upload';

const ctxOf: CtxOf = (cmd) => {
  const o = cmd.optsWithGlobals();
  return {
    client: new Client(resolveSettings({ url: o.url, token: o.token })),
    out: stdio(Boolean(o.json)),
    wait: o.wait !== false,
    display: displayFor(Boolean(o.quiet)),
  };
};

/** The raw commands print the API's JSON whatever --json says. */
const rawCtxOf: CtxOf = (cmd) => {
  const ctx = ctxOf(cmd);
  return { ...ctx, out: { ...ctx.out, json: true } };
};

function addRaw(program: Command): void {
  const raw = (method: string, body: 'none' | 'optional' | 'required') => {
    const cmd = program
      .command(method.toLowerCase())
      .description(
        `${method} any API path and print the JSON answer (PATH "clones" means /v1/clones)${body === 'none' ? '' : '; BODY is JSON, @FILE or -'}`,
      )
      .argument('<path>');
    if (body !== 'none') cmd.argument(body === 'required' ? '<body>' : '[body]');
    cmd.action(async (path: string, ...rest: unknown[]) => {
      const c = rest.at(-1) as Command;
      const ctx = rawCtxOf(c);
      const text = body === 'none' ? undefined : ((rest[0] as string | undefined) ?? '{}');
      const { readBody } = await import('./body');
      const answer = await ctx.client.call(method, apiPath(path), text === undefined ? undefined : readBody(text));
      if (answer.status === 202) await accepted(ctx, answer.body);
      else show(ctx, answer.body);
    });
  };
  raw('GET', 'none');
  raw('POST', 'optional');
  raw('PUT', 'optional');
  raw('PATCH', 'required');
  raw('DELETE', 'none');
}

function addOperations(program: Command): void {
  const ops = addResource(
    program,
    {
      name: 'ops',
      aliases: ['operations'],
      summary: 'Operations: what the API is doing or did',
      path: '/v1/operations',
      columns: operationColumns,
      show: false,
      list: [
        { flags: '--resource <resource>', doc: 'only operations on this resource (its id or name)' },
        { flags: '--kind <kind>', doc: 'only operations of this kind (import, clone, assign, …)' },
        { flags: '--status <status>', doc: 'only these: running, succeeded, failed or aborted' },
      ],
    },
    ctxOf,
  );
  ops
    .command('show')
    .description('Show an operation: status, progress, steps, result or error')
    .argument('<id>')
    .action(async (id: string, _o: unknown, c: Command) => {
      const ctx = ctxOf(c);
      const op = await ctx.client.get(at('/v1/operations', id));
      show(ctx, op, (o) => {
        const steps = (o.steps ?? []) as Record<string, unknown>[];
        const stepTable = steps.length
          ? `\n\n${table(steps, [
              { head: 'STEP', get: 'name' },
              { head: 'STATUS', get: 'status' },
              { head: 'STARTED', get: 'startedAt' },
              { head: 'MESSAGE', get: 'message' },
            ])}`
          : '';
        return `${operationSummary(o)}${stepTable}`;
      });
    });
  ops
    .command('wait')
    .description('Follow an operation until it ends (exit 5 unless it succeeded)')
    .argument('<id>')
    .action(async (id: string, _o: unknown, c: Command) => {
      await waitFor(ctxOf(c), id);
    });
}

const uploadFlags: Flag[] = [
  { flags: '--name <name>', doc: 'the master\u2019s name (default: the file name without its extension)' },
  { flags: '--repository <repository>', doc: 'the repository it is imported into', required: true },
  { flags: '--format <format>', doc: 'raw or qcow2 (default: detected)' },
  { flags: '--sha256 <hex>', doc: 'its sha256 (default: computed here)' },
  { flags: '--profile <json>', doc: 'the master\u2019s profile', kind: 'json' },
  { flags: '--requirements <json>', doc: 'machine requirements', kind: 'json' },
  { flags: '--item <json>', doc: 'a customization item; repeatable', kind: 'items', field: 'customization' },
];

function addUploads(program: Command): void {
  const uploads = program.command('uploads').description('Upload master images from this machine');
  const action = {
    name: 'create',
    summary: 'Upload an image file as a master; its import starts once the file is up',
    args: ['<file>'],
    method: 'POST' as const,
    path: () => '/v1/uploads',
    flags: uploadFlags,
  };
  const cmd = addAction(uploads, action, ctxOf);
  // The generic action would POST the flags; this one sends the file too.
  cmd.action(async (file: string, _o: unknown, c: Command) => {
    const ctx = ctxOf(c);
    const body = bodyOf(action, [], c.opts());
    body.name ??= basename(file, extname(file));
    const quiet = Boolean(c.optsWithGlobals().quiet);
    const made = await uploadFile(ctx.client, file, body as never, byteProgress(quiet));
    if (!ctx.wait) {
      show(ctx, made, (m) => fields({ upload: m.upload, key: m.key, method: m.method, operation: m.operation }));
      if (!ctx.out.json)
        ctx.out.note(
          `the import of ${body.name} starts by itself; follow it with encompass ops wait ${made.operation}`,
        );
      return;
    }
    // The upload's answer names its import's operation, readable (in its upload step) before the import starts.
    await waitFor(ctx, String(made.operation));
  });
}

function addMachineTag(machines: Command): void {
  machines
    .command('tag')
    .description('Add tags to a machine (or remove them with --remove)')
    .argument('<machine>')
    .argument('<tags...>')
    .option('--remove', 'remove these tags instead')
    .action(async (machine: string, tags: string[], o: { remove?: boolean }, c: Command) => {
      const ctx = ctxOf(c);
      const path = at('/v1/machines', machine);
      const now = ((await ctx.client.get(path)).tags ?? []) as string[];
      const next = o.remove ? now.filter((t) => !tags.includes(t)) : [...new Set([...now, ...tags])];
      show(ctx, (await ctx.client.call('PATCH', path, { tags: next })).body);
    });
}

function addSystem(program: Command): void {
  program
    .command('health')
    .description('Health of the parts and of each site agent')
    .action(async (_o: unknown, c: Command) => {
      const ctx = ctxOf(c);
      show(ctx, await ctx.client.get('/v1/health'), (h) => fields({ status: h.status, ...(h.components ?? {}) }));
    });
  program
    .command('config')
    .description('Show the settings in use and where each came from')
    .action((_o: unknown, c: Command) => {
      const o = c.optsWithGlobals();
      const s = resolveSettings({ url: o.url, token: o.token });
      const settings = {
        url: s.url,
        urlFrom: s.from.url,
        token: s.token ? `${s.token.slice(0, 8)}…` : undefined,
        tokenFrom: s.from.token,
      };
      show({ out: stdio(Boolean(o.json)) } as Ctx, settings);
    });
  program
    .command('completion')
    .description('Print a shell completion script: source <(encompass completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`completion is for bash or zsh, not "${shell}"`);
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}

/** The whole command tree. */
export function program(): Command {
  const p = new Command('encompass')
    .description('The ENCOMPASS command line: master images, their clones, machines and operations')
    .version(version)
    .option('--json', 'print the API\u2019s JSON answer unchanged (for scripts)')
    .option('--url <url>', 'the API (default: ENCOMPASS_URL, the config file, the local stack)')
    .option('--token <token>', 'the API token (default: ENCOMPASS_TOKEN, the config file, the local stack)')
    .option('--wait', 'follow an operation the command starts until it ends (the default)')
    .option('--no-wait', 'answer once the operation is accepted')
    .option('-q, --quiet', 'no progress on stderr')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError()
    .addHelpText('after', `\n${exitCodesHelp}\n\n${settingsHelp}`);
  for (const r of resources) {
    const cmd = addResource(p, r, ctxOf);
    if (r.name === 'clones') addCloneEvents(cmd, ctxOf);
    if (r.name === 'machines') addMachineTag(cmd);
  }
  addUploads(p);
  addOperations(p);
  addList(
    p,
    '/v1/audit',
    auditColumns,
    [],
    ctxOf,
    'the audit trail: who did what to which resource (newest first)',
    'audit',
  );
  addSystem(p);
  addRaw(p);
  return p;
}

/** Runs the command line `argv` (without node and the script); answers the exit code. */
export async function main(argv: string[]): Promise<number> {
  const p = program();
  if (argv.length === 0) {
    p.outputHelp({ error: true });
    return exitCodes.usage;
  }
  try {
    await p.parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (e) {
    // --help and --version end with exit code 0; every other parse error is a usage error.
    if (e instanceof CommanderError) return e.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    if (e instanceof CliError) {
      if (e instanceof ApiAnswerError && argv.includes('--json'))
        process.stdout.write(`${JSON.stringify(e.body, null, 2)}\n`);
      process.stderr.write(`encompass: ${e.message}\n`);
      return e.exit;
    }
    process.stderr.write(`encompass: ${(e as Error).stack ?? e}\n`);
    return exitCodes.other;
  }
}
