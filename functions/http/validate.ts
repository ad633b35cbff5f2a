/** Turns request input into typed values, or an InvalidInputError that lists every problem. */
import type { z } from 'zod';
import { InvalidInputError, PayloadTooLargeError } from '../errors';

export const MAX_BODY_BYTES = 1024 * 1024;

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const out = schema.safeParse(value);
  if (out.success) return out.data;
  const problems = out.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  throw new InvalidInputError(`invalid ${where}: ${problems.join('; ')}`, { problems });
}

export async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`the body is not valid JSON (${(e as Error).message}); send a JSON object`);
  }
}
