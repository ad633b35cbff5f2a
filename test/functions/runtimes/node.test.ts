/** The API suite in Node, served over HTTP by @hono/node-server as entry/node.ts does. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { inject } from 'vitest';
import { createApp } from '../../../functions/app';
import { describeApiConformance } from './api.case';

describeApiConformance('Node', async () => {
  const env = inject('stack').env;
  const app = createApp(() => env);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    fetch: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
});
