/** Turns request input into typed values, or an InvalidInputError that lists every problem. */
import { z } from 'zod';
import { fieldPath } from '../domain/field-path';
import { InvalidInputError, PayloadTooLargeError, UnknownQueryParameterError } from '../errors';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Levels of objects and arrays a body may nest; no request of this API needs a tenth of it. */
export const MAX_JSON_DEPTH = 64;
/** Path parameters are ids, names (`name@N` for a master version) or an event. */
export const MAX_PARAM_LENGTH = 200;

/** Each problem starts with the path of the field it is about (see fieldPath): `body.identity.macs.0: …`. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const out = schema.safeParse(value);
  if (out.success) return out.data;
  const problems = out.error.issues.flatMap((i) => {
    // One problem per unknown field, at that field, instead of one for the object that has them.
    if (i.code === 'unrecognized_keys')
      return i.keys.map((k) => `${fieldPath(where, [...i.path, k])}: is not a field here; leave it out`);
    return [`${fieldPath(where, i.path)}: ${i.message}`];
  });
  throw new InvalidInputError(`invalid ${where}: ${problems.join('; ')}`, { problems });
}

/** The parameters a query schema reads (a route without one reads none). */
export function queryParameters(schema: z.ZodType | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/**
 * Checks a route's query: a parameter it does not read is refused by name (a misspelled filter
 * would otherwise filter nothing), then the values are parsed with its schema.
 */
export function parseQuery<T>(schema: z.ZodType<T> | undefined, values: Record<string, string>): T | object {
  const accepted = queryParameters(schema);
  const unknown = Object.keys(values).filter((k) => !accepted.includes(k));
  if (unknown.length) throw new UnknownQueryParameterError(unknown, accepted);
  return schema ? parseWith(schema, values, 'query') : {};
}

const params = z.record(
  z.string(),
  z.string().min(1).max(MAX_PARAM_LENGTH, `is longer than ${MAX_PARAM_LENGTH} characters: no id or name is`),
);

/** Checks the path parameters of a route (`{id}`, `{event}`) before any of them is looked up. */
export function parseParams(values: Record<string, string>): Record<string, string> {
  return parseWith(params, values, 'path');
}

/** How deep `text` nests objects and arrays, counted without parsing; stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * Reads and drops a body that will not be used (up to `max` bytes), so that the client, still
 * sending it, gets the answer instead of a connection reset.
 */
async function drain(request: Request, max: number): Promise<void> {
  const reader = request.body?.getReader();
  if (!reader) return;
  for (let seen = 0; seen <= max; ) {
    const { done, value } = await reader.read();
    if (done) return;
    seen += value.byteLength;
  }
  await reader.cancel();
}

export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await drain(request, 4 * limit).catch(() => undefined);
    throw new PayloadTooLargeError(limit);
  }
  const text = await request.text();
  if (text.length > limit) throw new PayloadTooLargeError(limit);
  if (text.trim() === '') return {};
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    const problem = `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels; no field of this API needs that: flatten it`;
    throw new InvalidInputError(`the body ${problem}`, { problems: [`body: ${problem}`] });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`the body is not valid JSON (${(e as Error).message}); send a JSON object`);
  }
}
