/**
 * Routes the local Step Functions endpoint and the local stack call, guarded by a shared secret
 * instead of a token. In AWS the state machines invoke the Lambda directly (entry/lambda.ts) and
 * the secret is not set, so these routes answer 404 there.
 */
import { Hono } from 'hono';
import { reconcile } from '../actions/reconcile';
import { runStep } from '../actions/steps';
import { objectCreated, objectCreatedOf } from '../actions/uploads';
import type { Env } from '../config';
import { depsFor } from '../deps';
import { runDueDiscoveries } from '../discovery/schedule';
import { RouteNotFoundError } from '../errors';
import { parseWith } from '../http/validate';
import { endedOperation } from '../operations/schema';
import type { Operation } from '../store/records';

export function internalRoutes(envOf: (bindings: Env | undefined) => Env) {
  const routes = new Hono<{ Bindings: Env }>();
  routes.use('*', async (c, next) => {
    const secret = depsFor(envOf(c.env)).config.internalSecret;
    if (!secret || c.req.header('x-encompass-internal') !== secret)
      throw new RouteNotFoundError(c.req.method, c.req.path);
    await next();
  });
  routes.post('/steps', async (c) => c.json(await runStep(depsFor(envOf(c.env)), await c.req.json())));
  // An operation the local stack's steps ended (they run in Node, as in the Lambda): reads waiting here see it.
  routes.post('/ended', async (c) => {
    depsFor(envOf(c.env)).endings.ended(parseWith(endedOperation, await c.req.json(), 'body') as Operation);
    return c.json({ told: true });
  });
  routes.post('/reconcile', async (c) =>
    c.json(await reconcile(depsFor(envOf(c.env)), c.req.query('afterRestart') === '1')),
  );
  // The local stack's stand-in for the EventBridge discovery schedule.
  routes.post('/discovery-schedules', async (c) => c.json(await runDueDiscoveries(depsFor(envOf(c.env)))));
  // The local S3 server's object-created notifications (EventBridge delivers them in AWS).
  routes.post('/events/s3', async (c) => {
    const created = objectCreatedOf(await c.req.json());
    return c.json(
      created ? await objectCreated(depsFor(envOf(c.env)), created) : { ignored: 'not an object-created event' },
    );
  });
  return routes;
}
