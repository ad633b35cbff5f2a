/** What a caller learns from a request no route answers: a wrong path, a wrong method, a parameter no route reads. */
import { fetch } from 'undici';
import { describe, expect, inject, it } from 'vitest';
import { routes } from '../../../functions/app';
import { queryParameters } from '../../../functions/http/validate';
import { Api, dispatcher } from '../../support/api';

const api = Api.admin();

async function raw(method: string, path: string) {
  const s = inject('stack');
  const res = await fetch(`${s.url}${path}`, {
    dispatcher,
    method,
    headers: { authorization: `Bearer ${s.adminToken}` },
  });
  const text = await res.text();
  return { status: res.status, allow: res.headers.get('allow'), body: text ? JSON.parse(text) : undefined };
}

describe('routing', () => {
  it('answers an unknown path with a 404 that points at the OpenAPI document and the API reference', async () => {
    const r = await api.get('/v1/no-such-thing');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect(r.body.error.message).toContain('GET /v1/openapi.json');
    expect(r.body.error.message).toContain('/docs');
    expect(r.body.error.message).not.toContain('/v1/routes');
  });

  it.each([
    ['PUT', '/v1/clones', 'GET, HEAD, POST'],
    ['DELETE', '/v1/operations/op-abcdefghijkm', 'GET, HEAD'],
    ['PATCH', '/v1/clones/cl-abcdefghijkm', 'GET, HEAD, DELETE'],
    ['POST', '/v1/openapi.json', 'GET, HEAD'],
    ['GET', '/v1/repositories/rp-abcdefghijkm/check', 'POST'],
  ])(
    'answers %s %s with 405, an Allow header of the methods the path has, and an error body',
    async (method, path, allow) => {
      const r = await raw(method, path);
      expect(r.status, JSON.stringify(r.body)).toBe(405);
      expect(r.allow).toBe(allow);
      expect(r.body.error).toMatchObject({ code: 'method_not_allowed', method, allow: allow.split(', ') });
      expect(r.body.error.message).toContain(allow);
    },
  );

  it('refuses an unknown query parameter on a list, naming it and the accepted ones', async () => {
    const r = await api.get('/v1/clones?staus=ready&limit=2');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('unknown_query_parameter');
    expect(r.body.error.unknown).toEqual(['staus']);
    expect(r.body.error.accepted).toEqual(expect.arrayContaining(['limit', 'cursor', 'status', 'binding']));
    expect(r.body.error.message).toContain('staus');
    expect(r.body.error.problems).toEqual([expect.stringMatching(/^query\.staus: is not a parameter of this route/)]);
  });

  it('refuses a query parameter on a route that reads none, and a cursor on a list that is not paged', async () => {
    const read = await api.get('/v1/health?verbose=1');
    expect(read.status).toBe(400);
    expect(read.body.error.message).toContain('it takes no query parameters');
    const post = await api.post('/v1/machines?dryRun=1', {});
    expect(post.status).toBe(400);
    expect(post.body.error.unknown).toEqual(['dryRun']);
    const tokens = await api.get('/v1/tokens?cursor=garbage');
    expect(tokens.status).toBe(400);
    expect(tokens.body.error.problems[0]).toContain('not paged');
  });

  it('refuses an unknown query parameter on every route, before anything is looked up', async () => {
    for (const r of routes) {
      const path = r.path.replace(/\{(\w+)\}/g, (_, p) => (p === 'event' ? 'attach' : 'xx-abcdefghijkm'));
      const res = await raw(r.method.toUpperCase(), `${path}?zz-unknown=1`);
      // A route that checks its token first answers 401/403 only for another token; the admin token passes.
      if (r.access === 'agent') continue;
      expect(res.status, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.accepted).toEqual(queryParameters(r.query));
    }
  });
});
