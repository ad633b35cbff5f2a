/** The OpenAPI 3.1 document, generated from the route list and its zod schemas. */
import { z } from 'zod';
import { components as answers } from '../domain/responses';
import { mergePatchJsonSchema } from './merge-patch';
import type { RouteSpec } from './route';
import { MAX_PARAM_LENGTH } from './validate';

/** The request body of a route: JSON, or for a PATCH a JSON merge patch of its document. */
function requestBody(r: RouteSpec) {
  if (r.mergePatchOf) {
    const schema = {
      ...(tidy(mergePatchJsonSchema(jsonSchema(r.mergePatchOf, 'input')), false) as JsonSchema),
      description:
        'A JSON merge patch (RFC 7396): only the fields present change; an object merges into the field, null removes it (a map becomes empty), an array or a value replaces it. The result is checked whole: an invalid result is a 400 naming the field.',
    };
    return {
      required: true,
      content: { 'application/merge-patch+json': { schema }, 'application/json': { schema } },
    };
  }
  if (!r.body) return undefined;
  const schema = jsonSchema(r.body, 'input');
  // A body that is one of several objects (a health check's kinds) is still an object, said so for clients.
  const variants = (schema.oneOf ?? schema.anyOf) as { type?: unknown }[] | undefined;
  if (!schema.type && variants?.every((v) => v.type === 'object')) schema.type = 'object';
  // An empty body reads as `{}`: a body that may be `{}` may be left out.
  return { required: !r.body.safeParse({}).success, content: { 'application/json': { schema } } };
}

type JsonSchema = { [k: string]: unknown };

/**
 * Tidies a generated JSON Schema for clients and linters: `anyOf` with a member that matches
 * anything matches anything; in an answer, `additionalProperties: false` would be a false promise
 * (a view keeps more fields than its schema lists), so answers drop it.
 */
function tidy(schema: unknown, answer: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((v) => tidy(v, answer));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema' || k === '$id' || (answer && k === 'additionalProperties' && v === false)) continue;
    out[k] = tidy(v, answer);
  }
  const any = out.anyOf as JsonSchema[] | undefined;
  if (any?.some((m) => Object.keys(m).length === 0)) delete out.anyOf;
  return out;
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  tidy(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), io === 'output') as JsonSchema;

const names = new Map<z.ZodType, string>(Object.entries(answers).map(([k, v]) => [v as z.ZodType, k]));

/** The response schemas as components; one nested in another (a list's items) is a `$ref` to it. */
function answerSchemas() {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(answers)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return tidy(schemas, true) as Record<string, JsonSchema>;
}

const errorExample = (code: string, message: string) => ({ value: { error: { code, message } } });

/** The 4xx answers, one component each, all with the one error schema; an example says what a caller sees. */
const errors = {
  '400': {
    description: 'Malformed or invalid input: `problems` names each field and what is wrong with it',
    example: {
      error: {
        code: 'invalid_input',
        message: 'invalid body: body.name: names are 1-63 letters, digits, ".", "_" or "-"',
        problems: ['body.name: names are 1-63 letters, digits, ".", "_" or "-"'],
      },
    },
  },
  '401': {
    description: 'No token, or one that is unknown or revoked',
    example: errorExample('unauthorized', 'missing or unknown bearer token; send "Authorization: Bearer <token>"')
      .value,
  },
  '403': {
    description: "The token's role may not do this",
    example: errorExample(
      'forbidden',
      'a viewer token cannot do this; it needs the operator role: ask an admin for such a token',
    ).value,
  },
  '404': {
    description: 'No resource with that id or name (the path, or a reference in the body)',
    example: errorExample('not_found', 'no clone with id or name "web-9"; list them with GET /v1/clones').value,
  },
  '409': {
    description:
      'A conflict: the name is taken, the resource is busy with an operation, the event is not allowed in its state (`invalid_transition`), or the record moved on',
    example: errorExample(
      'invalid_transition',
      'cannot attach a clone that is clean and unassigned; events allowed now: assign, customize, rollback, relocate, destroy',
    ).value,
  },
  '413': {
    description: 'The body is larger than this route reads',
    example: errorExample('payload_too_large', 'the body is larger than 1048576 bytes; send less').value,
  },
} as const;
const errorName = {
  '400': 'BadRequest',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '409': 'Conflict',
  '413': 'PayloadTooLarge',
} as const;

/** Which 4xx a route can answer, from what it takes: input, a token, a resource, a change. */
function errorsOf(r: RouteSpec): (keyof typeof errors)[] {
  const takesInput = Boolean(r.body || r.mergePatchOf || r.query || r.path.includes('{'));
  const out: (keyof typeof errors)[] = [];
  if (takesInput) out.push('400');
  if (r.access !== 'public') out.push('401', '403');
  if (r.path.includes('{') || r.body) out.push('404');
  if (r.method !== 'get') out.push('409');
  if (r.body || r.mergePatchOf) out.push('413');
  return out;
}

const roles: Record<string, string> = {
  public: 'No token needed.',
  viewer: 'Needs a token with the viewer role or above.',
  operator: 'Needs a token with the operator or admin role.',
  admin: 'Needs an admin token.',
  agent: "Needs the agent token of the resource's site (edge agents only).",
};

const tags: Record<string, string> = {
  system: 'Health of the stack',
  operations: 'Long-running work: every 202 names an operation to follow',
  audit: 'Who did what, when, with what outcome',
  tokens: 'Bearer tokens and their roles',
  sites: 'Sites: where agents, repositories and machines are',
  agents: 'Routes the edge agents call',
  repositories: 'Where images are kept: a directory (`file`) or an iSCSI target (`iscsi`)',
  machines: 'Physical and virtual machines that boot from clones',
  masters: 'Master images and their versions',
  clones: 'Clones of masters and their lifecycle events',
  scenarios: 'Deployments, migrations, reassignments, service updates, exports and imports',
  discovery: 'Finding machines and images, and the conflicts reconciliation could not decide',
};

function operationOf(r: RouteSpec) {
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    description: m[1] === 'id' ? 'an id or a name' : `the ${m[1]}`,
    schema: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH },
  }));
  const query = r.query
    ? Object.entries(
        (jsonSchema(r.query, 'input') as { properties?: Record<string, JsonSchema> }).properties ?? {},
      ).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        ...(schema.description ? { description: schema.description } : {}),
        schema,
      }))
    : [];
  const status = String(r.status ?? 200);
  const name = names.get(r.response);
  if (!name) throw new Error(`${r.method} ${r.path}: its response schema is not in domain/responses.ts components`);
  const success = {
    description: status === '202' ? 'Accepted: follow the operation' : 'Success',
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
  };
  const body = requestBody(r);
  return {
    operationId: r.operationId,
    summary: r.summary,
    description: `${r.summary}. ${roles[r.access]}`,
    tags: [r.tag],
    security: r.access === 'public' ? [] : [{ bearer: [] }],
    'x-encompass-access': r.access,
    parameters: [...params, ...query],
    ...(body ? { requestBody: body } : {}),
    responses: {
      [status]: success,
      // A dry run or a repeated request answers 200 with the same schema.
      ...(r.statusOf && status !== '200' ? { '200': success } : {}),
      ...Object.fromEntries(errorsOf(r).map((e) => [e, { $ref: `#/components/responses/${errorName[e]}` }])),
    },
  };
}

/** The document as the app serves it (the console's API reference reads it too). */
export type OpenApiDocument = ReturnType<typeof openapiDocument>;

export function openapiDocument(routes: readonly RouteSpec[]) {
  const paths: Record<string, Record<string, ReturnType<typeof operationOf>>> = {};
  for (const r of routes) {
    if (r.undocumented) continue;
    paths[r.path] ??= {};
    paths[r.path]![r.method] = operationOf(r);
  }
  const used = new Set(routes.map((r) => r.tag));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ENCOMPASS',
      version: '0.1.0',
      description:
        'Master images and their clones for physical and virtual machines. JSON in and out; `Authorization: Bearer <token>` on everything but `GET /v1/health`. Work that takes time answers 202 with an operation: follow it with `GET /v1/operations/{id}?wait=`. Every error is `{"error": {"code", "message"}}`.',
      contact: { name: 'ENCOMPASS (API reference: GET /docs)' },
    },
    servers: [{ url: '/', description: 'this server: the local stack, or the API Gateway stage in AWS' }],
    tags: Object.entries(tags)
      .filter(([t]) => used.has(t))
      .map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: answerSchemas(),
      responses: Object.fromEntries(
        Object.entries(errors).map(([status, e]) => [
          errorName[status as keyof typeof errors],
          {
            description: e.description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: e.example } },
          },
        ]),
      ),
    },
    paths,
  };
}
