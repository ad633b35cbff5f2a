/** @jsxImportSource hono/jsx */
/**
 * The web console, served by the functions at `/` beside the API.
 *
 * Why this shape: pages are rendered on the server with Hono's JSX, from the app's own API routes
 * called in-process with the session's token, so every rule (who may do what, what a body must
 * hold, what an error says) is the API's, written once; the console adds no second client model,
 * no build step of its own and no JavaScript of its own. htmx (served from this bundle, never a
 * CDN) swaps the fragments that move: an operation's progress, a scenario's members, a clone's
 * state after an event, each by a long poll on the API's `?wait=`. So every page can carry a
 * strict Content-Security-Policy (default-src 'self', no inline script or style, no eval).
 *
 * The session is the token itself in an HttpOnly, SameSite=Strict cookie (session.ts says why);
 * every POST must come from the console's own origin.
 */
import { type Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { z } from 'zod';
import { authenticate, authorize, type Principal } from '../auth/principal';
import type { Env } from '../config';
import { depsFor } from '../deps';
import { ApiError, UnauthorizedError } from '../errors';
import type { OpenApiDocument } from '../http/openapi';
import type { RouteSpec } from '../http/route';
import type { Operation } from '../store/records';
import { CHANGED_EVENT, OperationProgress } from './actions';
import { assetRoutes } from './assets';
import { type ApiFetch, ApiReplyError, consoleApi } from './client';
import type { ConsoleEnv, PageCtx } from './context';
import { UnknownActionError } from './errors';
import { bodyOf } from './form';
import { ErrorBox, Json, Page } from './layout';
import { SCENARIO_PATHS } from './links';
import { clonePage, cloneStateOf, clonesPage } from './pages/clones';
import { conflictsPage } from './pages/conflicts';
import { ApiReference } from './pages/docs';
import { homePage, loginPage } from './pages/home';
import { machinePage, machinesPage } from './pages/machines';
import { masterPage, mastersPage } from './pages/masters';
import { auditPage, operationPage, operationsPage, progressFragment } from './pages/operations';
import { deploymentsPage, membersFragment, scenarioPage } from './pages/scenarios';
import { checkOrigin, endSession, sessionToken, startSession } from './session';

/** Every console answer: only this origin's files, no inline script or style, no eval, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface ConsoleOptions {
  /** The API's routes, whose body schemas the console's forms are made from. */
  routes: RouteSpec[];
  /** The OpenAPI document the app serves, rendered as the API reference at /docs. */
  openapi: OpenApiDocument;
  envOf: (bindings: Env | undefined) => Env;
  /** The app itself: the console's API calls go through it in-process. */
  fetch: (request: Request, bindings: Env | undefined) => Response | Promise<Response>;
}

type C = Context<ConsoleEnv & { Bindings: Env }>;

/** The `:id` of a record page (always in the route's path). */
const idOf = (c: C) => c.req.param('id') ?? '';

const isHtmx = (c: C) => c.req.header('hx-request') === 'true';

function html(c: C, node: Child, status = 200, headers: Record<string, string> = {}) {
  return c.html(`<!doctype html>${String(node)}`, status as 200, { ...securityHeaders, ...headers });
}

function fragment(c: C, node: Child, headers: Record<string, string> = {}) {
  return c.html(String(node), 200, { ...securityHeaders, ...headers });
}

function toLogin(c: C) {
  return isHtmx(c) ? c.body(null, 200, { ...securityHeaders, 'hx-redirect': '/login' }) : c.redirect('/login', 303);
}

export function consoleRoutes(o: ConsoleOptions) {
  const app = new Hono<ConsoleEnv & { Bindings: Env }>();
  const schemaOf = (method: string, path: string): z.ZodType | undefined => {
    const spec = o.routes.find((r) => r.method === method && r.path === path);
    return spec?.mergePatchOf ?? spec?.body;
  };

  /** Who the session's token is (the API's authentication), refusing tokens that may not read. */
  async function principalOf(c: C, token: string): Promise<Principal> {
    const p = await authenticate(depsFor(o.envOf(c.env)), `Bearer ${token}`);
    authorize(p, 'viewer');
    return p;
  }

  /** A page or fragment of a logged-in session: its token authenticates, then the handler runs with the API as that token. */
  const withSession =
    (handler: (c: C, ctx: PageCtx) => Promise<Response>) =>
    async (c: C): Promise<Response> => {
      const token = sessionToken(c);
      if (!token) return toLogin(c);
      let principal: Principal;
      try {
        principal = await principalOf(c, token);
      } catch (e) {
        if (!(e instanceof UnauthorizedError)) throw e;
        endSession(c);
        return toLogin(c);
      }
      const fetch: ApiFetch = (r) => o.fetch(r, c.env);
      const ctx: PageCtx = {
        api: consoleApi(fetch, new URL(c.req.url).origin, token),
        viewer: { role: principal.role, tokenId: principal.tokenId },
        schema: (method, path) => schemaOf(method, path),
      };
      c.set('page', ctx);
      return handler(c, ctx);
    };

  /** The viewer of a page anyone may read: the session's, if it has a valid one; nobody otherwise. */
  async function viewerOf(c: C): Promise<PageCtx['viewer'] | undefined> {
    const token = sessionToken(c);
    if (!token) return undefined;
    try {
      const p = await principalOf(c, token);
      return { role: p.role, tokenId: p.tokenId };
    } catch (e) {
      if (e instanceof ApiError) return undefined;
      throw e;
    }
  }

  const page = (render: (c: C, ctx: PageCtx) => Promise<Child>) =>
    withSession(async (c, ctx) => html(c, await render(c, ctx)));

  app.route('/', assetRoutes);

  app.get('/login', (c) => html(c, loginPage({})));

  // Public, as /v1/openapi.json is. The document is fixed for the life of the process, so its
  // rendering (the slow part) is done once; only the page shell (who is looking) is per request.
  let reference: string | undefined;
  app.get('/docs', async (c) => {
    reference ??= String(<ApiReference doc={o.openapi} />);
    return html(
      c,
      <Page title="API reference" viewer={await viewerOf(c)} here="/docs">
        {raw(reference)}
      </Page>,
    );
  });
  app.post('/login', async (c) => {
    checkOrigin(c);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    try {
      await principalOf(c, token);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return html(c, loginPage({ error: e.message }), e.status);
    }
    startSession(c, token);
    return c.redirect('/', 303);
  });
  app.post('/logout', (c) => {
    checkOrigin(c);
    endSession(c);
    return c.redirect('/login', 303);
  });

  app.get(
    '/',
    page((_c, ctx) => homePage(ctx)),
  );
  app.get(
    '/masters',
    page((_c, ctx) => mastersPage(ctx)),
  );
  app.get(
    '/masters/:id',
    page((c, ctx) => masterPage(ctx, idOf(c))),
  );
  app.get(
    '/clones',
    page((_c, ctx) => clonesPage(ctx)),
  );
  app.get(
    '/clones/:id',
    page((c, ctx) => clonePage(ctx, idOf(c))),
  );
  app.get(
    '/clones/:id/state',
    withSession(async (c, ctx) => fragment(c, await cloneStateOf(ctx, idOf(c)))),
  );
  app.get(
    '/machines',
    page((_c, ctx) => machinesPage(ctx)),
  );
  app.get(
    '/machines/:id',
    page((c, ctx) => machinePage(ctx, idOf(c))),
  );
  app.get(
    '/deployments',
    page((_c, ctx) => deploymentsPage(ctx)),
  );
  for (const path of SCENARIO_PATHS) {
    app.get(
      `/${path}/:id`,
      page((c, ctx) => scenarioPage(ctx, path, idOf(c))),
    );
    app.get(
      `/${path}/:id/members`,
      withSession(async (c, ctx) => {
        const { html: node, ended } = await membersFragment(ctx, path, idOf(c));
        return fragment(c, node, ended ? { 'hx-trigger': CHANGED_EVENT } : {});
      }),
    );
  }
  app.get(
    '/operations',
    page((_c, ctx) => operationsPage(ctx)),
  );
  app.get(
    '/operations/:id',
    page((c, ctx) => operationPage(ctx, idOf(c))),
  );
  app.get(
    '/operations/:id/progress',
    withSession(async (c, ctx) => {
      const op = await progressFragment(ctx, idOf(c));
      return fragment(c, <OperationProgress op={op} />, op.status === 'running' ? {} : { 'hx-trigger': CHANGED_EVENT });
    }),
  );
  app.get(
    '/audit',
    page((_c, ctx) => auditPage(ctx)),
  );
  app.get(
    '/conflicts',
    page((c, ctx) => conflictsPage(ctx, c.req.query('status') ?? 'open')),
  );

  /**
   * A console form: passed on to the API route it names, as the session's token, with the JSON the
   * form stands for. The answer shows the API's error message, the operation it started (followed
   * live), or what it made.
   */
  app.post(
    '/act',
    withSession(async (c, ctx) => {
      checkOrigin(c);
      const form = await c.req.parseBody();
      const method = String(form._method ?? '').toUpperCase();
      const path = String(form._path ?? '');
      if (!['POST', 'PATCH', 'DELETE'].includes(method) || !/^\/v1\/[\w@.~:%/-]+$/.test(path) || path.includes('..'))
        throw new UnknownActionError(method, path);
      const reply = await ctx.api.call<Record<string, unknown>>(
        method,
        path,
        method === 'DELETE' ? undefined : bodyOf(form),
      );
      if (reply.error)
        return fragment(
          c,
          <div data-outcome="refused" data-status={reply.status}>
            <ErrorBox code={reply.error.code} message={reply.error.message} />
          </div>,
        );
      const operation = typeof reply.body?.operation === 'string' ? reply.body.operation : undefined;
      if (operation) {
        const op = await ctx.api.read<Operation>(`/v1/operations/${operation}`);
        return fragment(c, <OperationProgress op={op} />);
      }
      return fragment(
        c,
        <div class="notice" data-outcome="done">
          Done ({reply.status}).
          <Json value={reply.body} />
        </div>,
        { 'hx-trigger': CHANGED_EVENT },
      );
    }),
  );

  app.onError((err, c) => {
    if (err instanceof ApiReplyError && err.reply.status === 401) {
      endSession(c);
      return toLogin(c);
    }
    const status = err instanceof ApiReplyError ? err.reply.status : err instanceof ApiError ? err.status : 500;
    const code = err instanceof ApiReplyError ? err.reply.error?.code : err instanceof ApiError ? err.code : 'internal';
    if (status === 500 && !(err instanceof ApiReplyError)) console.error(err);
    const message =
      status === 500 && !(err instanceof ApiReplyError)
        ? `internal error (${err.name}); the server log has details`
        : err.message;
    const box = <ErrorBox code={code} message={message} />;
    if (isHtmx(c)) return fragment(c, box);
    const ctx = c.get('page');
    return html(
      c,
      <Page title="Error" viewer={ctx?.viewer}>
        {box}
      </Page>,
      status,
    );
  });
  return app;
}
