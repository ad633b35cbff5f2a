/** The Lambda bundle that synth builds with esbuild: it loads in Node and serves the HTTP API. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctions, LAMBDA_HANDLER } from '../../../infra/aws/bundle';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An API Gateway HTTP API (payload 2.0) request, as Lambda receives it. */
const httpEvent = (path: string) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'api.example.com' },
  requestContext: {
    http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
    domainName: 'api.example.com',
    stage: '$default',
    requestId: 'request-1',
    timeEpoch: 0,
  },
  isBase64Encoded: false,
});

describe('the functions bundle', () => {
  it('is one ES module whose handler answers API Gateway requests', async () => {
    const dir = bundleFunctions();
    dirs.push(dir);
    const [file, exported] = LAMBDA_HANDLER.split('.') as [string, string];
    const mod = await import(pathToFileURL(join(dir, `${file}.mjs`)).href);
    const res = await mod[exported](httpEvent('/v1/openapi.json'), {});
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).openapi).toMatch(/^3\.1/);
  });

  it('keeps the class names that errors give themselves, though it is minified', async () => {
    const source = (file: string) =>
      JSON.stringify(fileURLToPath(new URL(`../../../functions/${file}`, import.meta.url)));
    const entryDir = mkdtempSync(join(tmpdir(), 'encompass-bundle-test-'));
    dirs.push(entryDir);
    const entry = join(entryDir, 'entry.ts');
    writeFileSync(
      entry,
      `import { StaleRecordError } from ${source('errors.ts')};\n` +
        `import { TransactionConflict } from ${source('store/db.ts')};\n` +
        "export const handler = async () => [new StaleRecordError('clone', 'c1').name, new TransactionConflict([0]).name];\n",
    );
    const dir = bundleFunctions(entry);
    dirs.push(dir);
    const mod = await import(pathToFileURL(join(dir, 'index.mjs')).href);
    expect(await mod.handler()).toEqual(['StaleRecordError', 'TransactionConflict']);
  });

  it('fails with a typed error that names the entry when esbuild cannot build it', () => {
    expect(() => bundleFunctions('/nonexistent/entry.ts')).toThrow(
      expect.objectContaining({ code: 'bundle_failed', entry: '/nonexistent/entry.ts' }),
    );
  });
});
