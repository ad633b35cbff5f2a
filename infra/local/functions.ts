/**
 * The functions bundle (esbuild, browser platform, workerd conditions) served by Miniflare on
 * 127.0.0.1, with the local stack's endpoints as its bindings.
 */

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { Miniflare } from 'miniflare';

const ENTRY = fileURLToPath(new URL('../../functions/entry/worker.ts', import.meta.url));

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
  /** Sends a request straight to the worker (no socket), as the Step Functions endpoint does. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** A Miniflare (workerd) instance running `script`, optionally listening on 127.0.0.1:`port`. */
export function workerd(script: string, o: { port?: number; bindings?: Record<string, string> } = {}): Miniflare {
  return new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: ['nodejs_compat'],
    bindings: o.bindings,
    ...(o.port !== undefined ? { host: '127.0.0.1', port: o.port } : {}),
  });
}

export async function startFunctions(o: { port: number; bindings: Record<string, string> }): Promise<FunctionsLocal> {
  const mf = workerd(await bundleFunctions(), o);
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    url,
    fetch: async (path, init) => (await mf.dispatchFetch(`${url}${path}`, init as never)) as unknown as Response,
    stop: () => mf.dispose(),
  };
}
