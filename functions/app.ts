/**
 * The HTTP app: every route from the route lists, one pipeline (authenticate, authorize, parse,
 * call, answer) and one error handler. Runtime-neutral: entry/ adapts it to workerd, Lambda, Node.
 */
import { Hono } from 'hono';
import { authenticate, authorize } from './auth/principal';
import type { Env } from './config';
import { consoleRoutes } from './console';
import { depsFor } from './deps';
import { ApiError, NotFoundError } from './errors';
import { openapiDocument } from './http/openapi';
import { honoPath, type RouteSpec } from './http/route';
import { parseParams, parseWith, readJson } from './http/validate';
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
      const hasBody = spec.method !== 'get' && spec.method !== 'delete';
      const raw = hasBody ? await readJson(c.req.raw, spec.maxBodyBytes) : undefined;
      const body = spec.body ? parseWith(spec.body, raw, 'body') : raw;
      const query = spec.query ? parseWith(spec.query, c.req.query(), 'query') : {};
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
  app.route('/', consoleRoutes({ routes, envOf, fetch: (request, bindings) => app.fetch(request, bindings) }));

  app.notFound((c) => {
    throw new NotFoundError('route', `${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => {
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
