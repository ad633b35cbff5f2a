/**
 * The baseline for the API numbers: a bare Hono app answering a constant JSON, served by Miniflare
 * (workerd) on 127.0.0.1 with the same settings as the functions, so the difference is our code.
 */
import { fileURLToPath } from 'node:url';
import { bundleFunctions, workerd } from '../../infra/local/functions';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SOURCE = `
import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.json({ status: 'ok', service: 'baseline' }));
export default app;
`;

export async function startBaseline(): Promise<{ url: string; stop: () => Promise<void> }> {
  const mf = workerd(await bundleFunctions({ source: SOURCE, resolveDir: ROOT }), { port: 0 });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, stop: () => mf.dispose() };
}
