/**
 * Console forms, made from the API's own body schemas and turned back into the JSON body the API
 * validates. The console never checks a value itself: a form only gathers text, and each field's
 * name says how that text becomes JSON (`to:number`, `customization.variables:map`), so what the
 * API refuses, the API says, in its own words.
 */
import { z } from 'zod';

/** How a field's text becomes JSON: `text` as is, `number`, `boolean`, `map` (`key=value` lines), `list` (one per line), `json`. */
export type FieldKind = 'text' | 'number' | 'boolean' | 'map' | 'list' | 'json';

export interface Field {
  /** Dotted path in the body, e.g. `customization.variables`. */
  path: string;
  kind: FieldKind;
  optional: boolean;
  /** An enum's values, offered in a list (with "leave out" first). */
  options?: string[];
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; shape?: unknown };
const defOf = (s: z.ZodType) => s._zod.def as unknown as Def;
const WRAPPERS = new Set(['optional', 'default', 'nullable', 'readonly', 'catch', 'prefault', 'nonoptional']);

/** The schema under optional/default/pipe wrappers, and whether it may be left out. */
function unwrap(s: z.ZodType): { schema: z.ZodType; optional: boolean } {
  let schema = s;
  let optional = false;
  for (;;) {
    const d = defOf(schema);
    if (WRAPPERS.has(d.type) && d.innerType) {
      if (d.type !== 'nonoptional') optional = true;
      schema = d.innerType;
    } else if (d.type === 'pipe' && d.in) schema = d.in;
    else return { schema, optional };
  }
}

/** The fields of a body schema: one per leaf of its objects; anything that is not plain text or numbers is JSON. */
export function fieldsOf(schema: z.ZodType | undefined, prefix = '', parentOptional = false): Field[] {
  if (!schema) return [];
  const { schema: s, optional: own } = unwrap(schema);
  const optional = own || parentOptional;
  const d = defOf(s);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
      fieldsOf(v, prefix ? `${prefix}.${k}` : k, optional),
    );
  }
  const field = (kind: FieldKind, options?: string[]): Field[] => [
    { path: prefix, kind, optional, ...(options ? { options } : {}) },
  ];
  if (s instanceof z.ZodEnum) return field('text', s.options.map(String));
  if (s instanceof z.ZodString) return field('text');
  if (s instanceof z.ZodNumber) return field('number');
  if (s instanceof z.ZodBoolean) return field('boolean', ['true', 'false']);
  if (s instanceof z.ZodRecord) return field('map');
  if (d.type === 'array' && d.element && unwrap(d.element).schema instanceof z.ZodString) return field('list');
  return field('json');
}

/** A field's form name: its path and kind (`to:number`). */
export const inputName = (f: Pick<Field, 'path' | 'kind'>) => `${f.path}:${f.kind}`;

/** What a form field holds for `value` (a record's current value, to edit it). */
export function textOf(kind: FieldKind, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (kind === 'map' && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('\n');
  if (kind === 'list' && Array.isArray(value)) return value.join('\n');
  if (kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

/** `text` as JSON by its field's kind; text that does not read as that kind goes as the string it is, for the API to refuse. */
function jsonOf(kind: FieldKind, text: string): unknown {
  switch (kind) {
    case 'number':
      return /^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'list':
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    case 'map': {
      const lines = text.split('\n').filter((l) => l.trim());
      if (!lines.every((l) => l.includes('='))) return text;
      return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1)]));
    }
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

const KINDS = new Set<string>(['text', 'number', 'boolean', 'map', 'list', 'json']);

/** The JSON body a submitted form stands for: fields left empty are left out; names starting with `_` are the console's own. */
export function bodyOf(form: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(form)) {
    if (name.startsWith('_') || typeof raw !== 'string' || raw.trim() === '') continue;
    const colon = name.lastIndexOf(':');
    const kind = colon > 0 && KINDS.has(name.slice(colon + 1)) ? (name.slice(colon + 1) as FieldKind) : 'text';
    const path = (colon > 0 && KINDS.has(name.slice(colon + 1)) ? name.slice(0, colon) : name).split('.');
    let at = body;
    for (const key of path.slice(0, -1)) {
      if (!at[key] || typeof at[key] !== 'object') at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    at[path[path.length - 1]!] = jsonOf(kind, raw.replace(/\r\n/g, '\n'));
  }
  return body;
}
