/** Node entry: serves the app on PORT with process.env as the environment. */
import { serve } from '@hono/node-server';
import { createApp } from '../app';

const app = createApp();
const port = Number(process.env.PORT ?? 8787);
serve({ fetch: (req) => app.fetch(req, process.env), port, hostname: process.env.HOST ?? '127.0.0.1' });
console.log(`encompass functions on http://127.0.0.1:${port}`);
