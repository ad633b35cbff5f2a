/** The OpenAPI document is generated from the route list and describes every route and body. */
import { describe, expect, it } from 'vitest';
import { routes } from '../../../functions/app';
import { Api } from '../../support/api';

const api = Api.admin();

describe('GET /v1/openapi.json', () => {
  it('is OpenAPI 3.1 with every route, its access and its request schema', async () => {
    const res = await fetch(`${api.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const r of routes.filter((x) => !x.undocumented)) {
      const op = doc.paths[r.path]?.[r.method];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op['x-encompass-access']).toBe(r.access);
      if (r.body) expect(op.requestBody.content['application/json'].schema.type).toBe('object');
    }
    const importBody = doc.paths['/v1/masters'].post.requestBody.content['application/json'].schema;
    expect(importBody.required).toEqual(expect.arrayContaining(['name', 'repository', 'path']));
    expect(
      importBody.properties.customization.items.oneOf ?? importBody.properties.customization.items.anyOf,
    ).toHaveLength(3); // file, replace, registry
  });

  it('answers health without a token', async () => {
    const res = await fetch(`${api.url}/v1/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.components).toMatchObject({ dynamodb: 'ok', s3: 'ok', stepfunctions: 'ok' });
    // Other suites' sites come and go (one kills an agent on purpose): the stack's own site is ok.
    expect(body.sites.local).toBe('ok');
  });
});
