/**
 * Lambda entry: API Gateway events go to the app; the state machines' bookkeeping steps
 * (`{step, operation, ...}`) go straight to the steps.
 */
import { handle } from 'hono/aws-lambda';
import { runStep, type StepInput } from '../actions/steps';
import { createApp } from '../app';
import { depsFor } from '../deps';

const http = handle(createApp(() => process.env));

export const handler = async (event: unknown, context: unknown) => {
  if (event && typeof event === 'object' && 'step' in event) return runStep(depsFor(process.env), event as StepInput);
  return http(event as Parameters<typeof http>[0], context as Parameters<typeof http>[1]);
};
