/**
 * The baseline for the API numbers: a bare Hono app answering a constant JSON, served by Miniflare
 * (workerd) on 127.0.0.1 with the same settings as the functions, so the difference is our code.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SOURCE = `
import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.json({ status: 'ok', service: 'baseline' }));
export default app;
`;

export async function startBaseline(): Promise<{ url: string; stop: () => Promise<void> }> {
  const out = await build({
    stdin: { contents: SOURCE, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const mf = new Miniflare({
    modules: true,
    script: out.outputFiles[0]!.text,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: ['nodejs_compat'],
    host: '127.0.0.1',
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, stop: () => mf.dispose() };
}
