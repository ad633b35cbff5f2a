import { InvalidPaginationTokenError, ParameterValidationError } from './errors';

/** A decoded AWS JSON 1.0 request body. */
export type RequestBody = Record<string, unknown>;

export function optionalString(body: RequestBody, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ParameterValidationError(key, 'must be a string');
  return value;
}

export function requiredString(body: RequestBody, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined || value === '') throw new ParameterValidationError(key, 'is required');
  return value;
}

export function optionalNumber(body: RequestBody, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ParameterValidationError(key, 'must be a number');
  return value;
}

/** AWS JSON 1.0 encodes timestamps as epoch seconds. */
export function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

const DEFAULT_PAGE_SIZE = 100;

/** One page of `items` under `key`, with `nextToken` (an opaque offset) when more remain. */
export function page<T>(items: T[], body: RequestBody, key: string, view: (item: T) => unknown): RequestBody {
  const size = optionalNumber(body, 'maxResults') || DEFAULT_PAGE_SIZE;
  const token = optionalString(body, 'nextToken');
  const start = token === undefined ? 0 : Number.parseInt(Buffer.from(token, 'base64url').toString(), 10);
  if (!Number.isInteger(start) || start < 0) throw new InvalidPaginationTokenError(token ?? '');
  const end = start + size;
  return {
    [key]: items.slice(start, end).map(view),
    nextToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}
