/** Reading the parameters of a decoded AWS JSON 1.1 request body; a wrong one is an InvalidParameterException. */
import { InvalidParameterError } from './errors';

export type RequestBody = Record<string, unknown>;

export function optionalString(body: RequestBody, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParameterError(key, 'must be a string');
  return value;
}

export function requiredString(body: RequestBody, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined || value === '') throw new InvalidParameterError(key, 'is required');
  return value;
}

export function optionalBoolean(body: RequestBody, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidParameterError(key, 'must be true or false');
  return value;
}

export function optionalInteger(body: RequestBody, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidParameterError(key, 'must be an integer');
  return value;
}

/** Parameters of the real API that this store does not implement: refused, never silently ignored. */
export function refuseUnsupported(body: RequestBody, keys: string[], why: string): void {
  for (const key of keys)
    if (body[key] !== undefined && body[key] !== null)
      throw new InvalidParameterError(key, `is not supported by the local secret store (${why})`);
}

/** AWS JSON 1.1 encodes timestamps as epoch seconds. */
export const epochSeconds = (ms: number) => ms / 1000;
