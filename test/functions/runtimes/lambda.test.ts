/** The API suite through the Lambda entry, invoked with API Gateway HTTP API (v2) events. */
import { inject } from 'vitest';
import { describeApiConformance } from './api.case';

/** Turns a fetch-style request into the event API Gateway sends, and the result back. */
async function toEvent(path: string, init: RequestInit = {}) {
  const url = new URL(path, 'https://api.example.com');
  const headers = Object.fromEntries(new Headers(init.headers).entries());
  const body = typeof init.body === 'string' ? init.body : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: { host: url.host, ...headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: url.host,
      http: {
        method: init.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

describeApiConformance('AWS Lambda (API Gateway v2 events)', async () => {
  Object.assign(process.env, inject('stack').env);
  const { handler } = await import('../../../functions/entry/lambda');
  return {
    fetch: async (path, init) => {
      const out = (await handler(await toEvent(path, init), {})) as {
        statusCode: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      };
      const body = out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64').toString() : out.body;
      return new Response(body, { status: out.statusCode, headers: out.headers });
    },
    stop: async () => {},
  };
});
