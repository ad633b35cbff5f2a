/**
 * PATCH means JSON merge patch (RFC 7396) on every route: a member that is an object merges into the
 * target's member recursively, `null` removes the member, anything else (an array, a string, a
 * number) replaces it. Only the members present change and nothing takes a default; the result is
 * checked against the resource's whole schema, so a patch that leaves the record invalid is a 400
 * naming the field. Both `application/merge-patch+json` and `application/json` are accepted.
 */
import { z } from 'zod';
import { fieldPath } from '../domain/field-path';
import { InvalidInputError, StaleRecordError } from '../errors';
import { parseWith } from './validate';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body of every PATCH route: an object of the members to change. */
export const mergePatchBody = z.record(z.string(), z.unknown(), {
  error: 'a merge patch is a JSON object of the fields to change, with null for a field to remove',
});

/** RFC 7396 MergePatch(target, patch). Own `__proto__` members stay plain members (and fail validation). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else Object.defineProperty(out, key, { value: mergePatch(out[key], value), enumerable: true, writable: true });
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (!isObject(a) || !isObject(b) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
}

/** What PATCH may change of one kind of resource. */
export interface Patchable<D> {
  kind: string;
  /** The editable fields, checked whole after the merge. */
  schema: z.ZodType<D>;
  /**
   * Fields of the stored record that a patch may repeat unchanged (a client may send back what it
   * read) but not change, with the reason a caller sees. `rev` is always one: sent, it is a
   * precondition (409 stale when the record moved on); so are `id`, `createdAt` and `updatedAt`.
   */
  fixed?: Record<string, string>;
}

const serverFields: Record<string, string> = {
  id: 'is set by the server and cannot be changed',
  createdAt: 'is set by the server and cannot be changed',
  updatedAt: 'is set by the server and cannot be changed',
};

/** The editable document `current` with `patch` merged in, validated; the record is what was read. */
export function applyMergePatch<D>(
  p: Patchable<D>,
  record: { id: string; rev: number } & JsonObject,
  current: D,
  patch: JsonObject,
): D {
  const fixed = { ...serverFields, ...p.fixed };
  const changes: JsonObject = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'rev') {
      if (value !== record.rev) throw new StaleRecordError(p.kind, record.id);
    } else if (Object.hasOwn(fixed, key)) {
      if (!deepEqual(value, record[key])) problems.push(`${fieldPath('body', [key])}: ${fixed[key]}; leave it out`);
    } else Object.defineProperty(changes, key, { value, enumerable: true });
  }
  if (problems.length) throw new InvalidInputError(`invalid body: ${problems.join('; ')}`, { problems });
  return parseWith(p.schema, mergePatch(current, changes), 'body');
}

type JsonSchema = { [k: string]: unknown };

/**
 * The JSON Schema of a merge patch of documents that fit `schema`: every member optional, and `null`
 * (remove) allowed wherever a member may be absent; arrays and scalars are whole values, as in a patch.
 */
export function mergePatchJsonSchema(schema: JsonSchema): JsonSchema {
  if (schema.type !== 'object') return schema;
  const { required, properties, additionalProperties, default: _default, ...rest } = schema;
  const needed = new Set((required as string[] | undefined) ?? []);
  const member = (name: string | undefined, s: JsonSchema) => {
    const { default: _d, ...patch } = mergePatchJsonSchema(s);
    return name !== undefined && needed.has(name) ? patch : { anyOf: [patch, { type: 'null' }] };
  };
  return {
    ...rest,
    ...(properties
      ? {
          properties: Object.fromEntries(
            Object.entries(properties as Record<string, JsonSchema>).map(([k, s]) => [k, member(k, s)]),
          ),
        }
      : {}),
    ...(typeof additionalProperties === 'object'
      ? { additionalProperties: member(undefined, additionalProperties as JsonSchema) }
      : additionalProperties !== undefined
        ? { additionalProperties }
        : {}),
  };
}
