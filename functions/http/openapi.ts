/** The OpenAPI 3.1 document, generated from the route list and its zod schemas. */
import { z } from 'zod';
import { mergePatchJsonSchema } from './merge-patch';
import type { RouteSpec } from './route';
import { MAX_PARAM_LENGTH } from './validate';

/** The request body of a route: JSON, or for a PATCH a JSON merge patch of its document. */
function requestBody(r: RouteSpec) {
  if (r.mergePatchOf) {
    const schema = {
      ...mergePatchJsonSchema(
        z.toJSONSchema(r.mergePatchOf, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
      ),
      description:
        'A JSON merge patch (RFC 7396): only the fields present change; an object merges into the field, null removes it (a map becomes empty), an array or a value replaces it. The result is checked whole: an invalid result is a 400 naming the field.',
    };
    return {
      required: true,
      content: { 'application/merge-patch+json': { schema }, 'application/json': { schema } },
    };
  }
  if (!r.body) return undefined;
  const schema = z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // A body that is one of several objects (a health check's kinds) is still an object, said so for clients.
  const variants = (schema.oneOf ?? schema.anyOf) as { type?: unknown }[] | undefined;
  if (!schema.type && variants?.every((v) => v.type === 'object')) schema.type = 'object';
  return { required: true, content: { 'application/json': { schema } } };
}

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
};

export function openapiDocument(routes: readonly RouteSpec[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH },
    }));
    const query = r.query
      ? Object.entries(
          (z.toJSONSchema(r.query, { io: 'input' }) as { properties?: Record<string, unknown> }).properties ?? {},
        ).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
      : [];
    const status = String(r.status ?? 200);
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      tags: [r.tag],
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      'x-encompass-access': r.access,
      parameters: [...params, ...query],
      ...(requestBody(r) ? { requestBody: requestBody(r) } : {}),
      responses: {
        [status]: {
          description: status === '202' ? 'accepted: follow the operation' : 'success',
          ...(r.response
            ? { content: { 'application/json': { schema: z.toJSONSchema(r.response, { io: 'output' }) } } }
            : {}),
        },
        default: { description: 'error', content: { 'application/json': { schema: errorBody } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ENCOMPASS',
      version: '0.1.0',
      description: 'Master images and their clones for physical and virtual machines',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
