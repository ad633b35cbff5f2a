/**
 * The functions bundle (esbuild, browser platform, workerd conditions) served by Miniflare on
 * 127.0.0.1, with the local stack's endpoints as its bindings.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { processInfo } from './procs';
import { DEFAULT_BACKOFF } from './supervisor';

const ENTRY = fileURLToPath(new URL('../../functions/entry/worker.ts', import.meta.url));
const WORKERD_WRAPPER = fileURLToPath(new URL('./workerd.sh', import.meta.url));
const DISPOSE_WAIT_MS = 2000;

/**
 * The AWS SDK's browser build parses XML (S3 answers) with DOMParser, which workerd lacks; its
 * Node build uses a pure-JS parser that runs anywhere, so the bundle takes that one.
 */
const nodeXmlParser: Plugin = {
  name: 'aws-sdk-node-xml-parser',
  setup(b) {
    b.onResolve({ filter: /^\.\/xml-parser$/ }, (args) =>
      args.importer.includes('xml-builder') ? { path: join(args.resolveDir, 'xml-parser.js') } : undefined,
    );
  },
};

/** Bundles a worker (the functions' entry by default, or inline source) into one ES module for workerd. */
export async function bundleFunctions(entry: string | { source: string; resolveDir: string } = ENTRY): Promise<string> {
  const out = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.source, resolveDir: entry.resolveDir, loader: 'ts' as const } }),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    minify: false,
    logLevel: 'silent',
    plugins: [nodeXmlParser],
  });
  return out.outputFiles[0]!.text;
}

export interface FunctionsLocal {
  url: string;
  /** Sends a request straight to the worker (no socket), as the Step Functions endpoint does; waits out a restart. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** workerd's PID now: it changes when workerd is started again. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Every workerd Miniflare starts in this process runs through workerd.sh, which ties it to this
 * process's life (parent-death signal). Miniflare reads the variable at each start, restarts included.
 */
function bindWorkerdToThisProcess(): void {
  process.env.ENCOMPASS_WORKERD_BIN ??= (createRequire(import.meta.url)('workerd') as { default: string }).default;
  process.env.MINIFLARE_WORKERD_PATH = WORKERD_WRAPPER;
}

/** Miniflare's log, with the one error that matters here (a failed restart of workerd) handed on. */
class RuntimeLog extends Log {
  constructor(private readonly onError: (e: Error) => void) {
    super(LogLevel.WARN);
  }
  override error(e: Error): void {
    super.error(e);
    this.onError(e);
  }
}

interface WorkerdOptions {
  port?: number;
  bindings?: Record<string, string>;
  /** workerd died and Miniflare started it again (on the same ports). */
  onRestart?: () => void;
  /** Miniflare could not start workerd again. */
  onRuntimeError?: (e: Error) => void;
}

/**
 * Miniflare's exit hook answers SIGINT and SIGTERM with process.exit(), which would cut short the
 * ordered stop of the process that owns it (the stack's agent killed mid-task instead of aborting):
 * those two listeners go, the owner handles its signals, and the hook's `exit` listener stays.
 */
function leaveSignalsToTheOwner(): void {
  for (const [signal, listener] of [
    ['SIGINT', 'onSignalInt'],
    ['SIGTERM', 'onSignalTerm'],
  ] as const)
    for (const l of process.listeners(signal)) if (l.name === listener) process.removeListener(signal, l);
}

/** A Miniflare (workerd) instance running `script`, optionally listening on 127.0.0.1:`port`. */
export function workerd(script: string, o: WorkerdOptions = {}): Miniflare {
  bindWorkerdToThisProcess();
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: ['nodejs_compat'],
    // Nothing here reads `request.cf`; without this Miniflare fetches it from the internet at each start.
    cf: false,
    bindings: o.bindings,
    ...(o.port !== undefined ? { host: '127.0.0.1', port: o.port } : {}),
    ...(o.onRestart ? { unsafeHandleRuntimeRestart: o.onRestart } : {}),
    ...(o.onRuntimeError ? { log: new RuntimeLog(o.onRuntimeError) } : {}),
  });
  leaveSignalsToTheOwner();
  return mf;
}

/**
 * The functions on 127.0.0.1:`port`. When workerd dies, Miniflare starts it again at once on the same
 * ports; should that fail (a port taken meanwhile), the whole Miniflare is made again here, with back-off,
 * until it serves. Requests sent through `fetch` meanwhile wait for it.
 */
export async function startFunctions(o: {
  port: number;
  bindings: Record<string, string>;
  log?: (line: string) => void;
  /** Called with workerd's new PID after each restart. */
  onRestart?: (pid: number | undefined) => void;
}): Promise<FunctionsLocal> {
  const log = o.log ?? (() => {});
  const script = await bundleFunctions();
  let stopped = false;
  let rebuilding: Promise<void> | undefined;
  let mf: Miniflare | undefined;
  let url = '';
  const pid = () => workerdPid(o.port);
  const make = async () => {
    mf = workerd(script, {
      port: o.port,
      bindings: o.bindings,
      onRestart: () => {
        log(`workerd died and Miniflare started it again (pid ${pid()})`);
        o.onRestart?.(pid());
      },
      onRuntimeError: (e) => {
        if (stopped || rebuilding) return;
        log(`workerd could not be started again: ${e.message}; making the functions' runtime anew`);
        rebuilding = rebuild(Date.now()).finally(() => {
          rebuilding = undefined;
        });
      },
    });
    url = (await mf.ready).toString().replace(/\/$/, '');
  };
  const rebuild = async (diedAt: number) => {
    let delayMs = DEFAULT_BACKOFF.firstMs;
    while (!stopped) {
      // A Miniflare whose restart failed may never finish disposing: it is dropped either way.
      await Promise.race([mf?.dispose().catch(() => undefined), sleep(DISPOSE_WAIT_MS)]);
      await sleep(delayMs);
      if (stopped) return;
      try {
        await make();
        log(`the functions serve again (workerd pid ${pid()}), ${Date.now() - diedAt} ms after workerd died`);
        o.onRestart?.(pid());
        return;
      } catch (e) {
        delayMs = Math.min(delayMs * 2, DEFAULT_BACKOFF.maxMs);
        log(`the functions' runtime did not start: ${(e as Error).message}; next attempt in ${delayMs} ms`);
      }
    }
  };
  try {
    await make();
  } catch (e) {
    // A runtime that did not start (its port taken, say) is disposed of before the caller tries again.
    await Promise.race([mf?.dispose().catch(() => undefined), sleep(DISPOSE_WAIT_MS)]);
    throw e;
  }
  return {
    url,
    pid,
    fetch: async (path, init) => {
      await rebuilding;
      return (await mf!.dispatchFetch(`${url}${path}`, init as never)) as unknown as Response;
    },
    stop: async () => {
      stopped = true;
      await rebuilding;
      await mf?.dispose();
    },
  };
}

/** The workerd this process runs with its entry socket on `port`, found among this process's children. */
function workerdPid(port: number): number | undefined {
  const entry = `--socket-addr=entry=127.0.0.1:${port}`;
  for (const task of readdirSync('/proc/self/task')) {
    let children: string[];
    try {
      children = readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean);
    } catch {
      continue;
    }
    for (const child of children) {
      const argv = processInfo(Number(child))?.argv ?? [];
      if (argv.includes(entry)) return Number(child);
    }
  }
  return undefined;
}
