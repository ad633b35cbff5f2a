/** Node entry: serves the app on PORT with process.env as the environment. */
import { serve } from '@hono/node-server';
import { createApp } from '../app';

const app = createApp(() => process.env);
const port = Number(process.env.PORT ?? 8787);
serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' });
console.log(`encompass functions on http://127.0.0.1:${port}`);
