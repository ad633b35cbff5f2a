/**
 * Lambda entry: API Gateway events go to the app; the state machines' bookkeeping steps
 * (`{step, operation, ...}`) go straight to the steps; EventBridge "Object Created" events under
 * uploads/masters/ start imports; the scheduled reconcile event ends operations whose workflow is gone;
 * the discovery schedule's event starts the sites' discoveries that are due.
 */
import { handle } from 'hono/aws-lambda';
import { reconcile } from '../actions/reconcile';
import { runStep } from '../actions/steps';
import { objectCreated, objectCreatedOf } from '../actions/uploads';
import { createApp } from '../app';
import { depsFor } from '../deps';
import { isDiscoveryScheduleEvent, runDueDiscoveries } from '../discovery/schedule';

const http = handle(createApp(() => process.env));

export const handler = async (event: unknown, context: unknown) => {
  if (event && typeof event === 'object' && 'step' in event) return runStep(depsFor(process.env), event);
  const e = event as { source?: string; 'detail-type'?: string };
  if (e?.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') return reconcile(depsFor(process.env));
  if (isDiscoveryScheduleEvent(event)) return runDueDiscoveries(depsFor(process.env));
  const created = objectCreatedOf(event);
  if (created) return objectCreated(depsFor(process.env), created);
  return http(event as Parameters<typeof http>[0], context as Parameters<typeof http>[1]);
};
