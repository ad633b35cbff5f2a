/**
 * The HTTP app: every route from the route lists, one pipeline (authenticate, authorize, parse,
 * call, answer) and one error handler. Runtime-neutral: entry/ adapts it to workerd, Lambda, Node.
 */
import { Hono } from 'hono';
import { authenticate, authorize } from './auth/principal';
import type { Env } from './config';
import { consoleRoutes } from './console';
import { depsFor } from './deps';
import { ApiError, MethodNotAllowedError, RouteNotFoundError } from './errors';
import { openapiDocument } from './http/openapi';
import { honoPath, type RouteSpec } from './http/route';
import { parseParams, parseQuery, parseWith, readJson } from './http/validate';
import { discoveryRoutes } from './routes/discovery';
import { imageRoutes } from './routes/images';
import { internalRoutes } from './routes/internal';
import { inventoryRoutes } from './routes/inventory';
import { operationRoutes } from './routes/operations';
import { scenarioRoutes } from './routes/scenarios';
import { transferRoutes } from './routes/transfer';

export const routes: RouteSpec[] = [
  ...operationRoutes,
  ...inventoryRoutes,
  ...imageRoutes,
  ...scenarioRoutes,
  ...discoveryRoutes,
  ...transferRoutes,
];

/**
 * `envOf` says where the runtime keeps the settings: Workers pass them as bindings (`c.env`, the
 * default); Lambda and Node have them in `process.env` (their entry files pass that).
 */
export function createApp(envOf: (bindings: Env | undefined) => Env = (b) => b ?? {}) {
  const app = new Hono<{ Bindings: Env }>();
  const openapi = openapiDocument(routes);
  app.get('/v1/openapi.json', (c) => c.json(openapi));
  app.route('/internal', internalRoutes(envOf));

  for (const spec of routes) {
    app.on(spec.method.toUpperCase(), honoPath(spec.path), async (c) => {
      const deps = depsFor(envOf(c.env));
      const principal =
        spec.access === 'public' ? undefined : await authenticate(deps, c.req.header('authorization') ?? null);
      if (principal) authorize(principal, spec.access);
      const params = parseParams(c.req.param() as Record<string, string>);
      const query = parseQuery(spec.query, c.req.query());
      const hasBody = spec.method !== 'get' && spec.method !== 'delete';
      const raw = hasBody ? await readJson(c.req.raw, spec.maxBodyBytes) : undefined;
      const body = spec.body ? parseWith(spec.body, raw, 'body') : raw;
      const result = await spec.handler({
        deps,
        principal,
        params,
        body,
        query,
        request: c.req.raw,
      });
      return c.json(result as object, spec.statusOf?.(result) ?? spec.status ?? 200);
    });
  }

  // The web console at `/`: its pages call the routes above in-process (functions/console/index.tsx).
  app.route('/', consoleRoutes({ routes, openapi, envOf, fetch: (request, bindings) => app.fetch(request, bindings) }));
  const allowed = methodsByPath([...routes, { method: 'get', path: '/v1/openapi.json' }]);
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    if (allow.length) throw new MethodNotAllowedError(c.req.method, c.req.path, allow);
    throw new RouteNotFoundError(c.req.method, c.req.path);
  });
  app.onError((err, c) => {
    if (err instanceof MethodNotAllowedError) c.header('Allow', err.allow.join(', '));
    if (err instanceof ApiError) {
      return c.json({ error: { code: err.code, message: err.message, ...err.details } }, err.status as 400);
    }
    console.error(err);
    return c.json(
      { error: { code: 'internal', message: `internal error (${err.name}); the server log has details` } },
      500,
    );
  });
  return app;
}

/** The methods the routes answer on a concrete path (HEAD with GET, as Hono answers it): for a 405's `Allow`. */
function methodsByPath(specs: Pick<RouteSpec, 'method' | 'path'>[]): (path: string) => string[] {
  const patterns = specs.map((r) => ({
    method: r.method.toUpperCase(),
    pattern: new RegExp(`^${r.path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
  }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD');
    return ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => methods.has(m));
  };
}
