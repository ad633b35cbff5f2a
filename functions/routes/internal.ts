/**
 * Routes the local Step Functions endpoint and the local stack call, guarded by a shared secret
 * instead of a token. In AWS the state machines invoke the Lambda directly (entry/lambda.ts) and
 * the secret is not set, so these routes answer 404 there.
 */
import { Hono } from 'hono';
import { reconcile } from '../actions/reconcile';
import { runStep, type StepInput } from '../actions/steps';
import type { Env } from '../config';
import { depsFor } from '../deps';
import { NotFoundError } from '../errors';

export const internalRoutes = new Hono<{ Bindings: Env }>();

internalRoutes.use('*', async (c, next) => {
  const secret = depsFor(c.env).config.internalSecret;
  if (!secret || c.req.header('x-encompass-internal') !== secret) throw new NotFoundError('route', c.req.path);
  await next();
});

internalRoutes.post('/steps', async (c) => c.json(await runStep(depsFor(c.env), (await c.req.json()) as StepInput)));
internalRoutes.post('/reconcile', async (c) => c.json(await reconcile(depsFor(c.env), c.req.query('afterRestart') === '1')));
