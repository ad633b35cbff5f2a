/** @jsxImportSource hono/jsx */
/**
 * A JSON Schema (as the OpenAPI document holds it) shown for people: one line per field with its
 * type, whether it is required, its constraints and description, nested fields indented beneath.
 * A `$ref` is a link to the named component (the API reference lists each once, expanded).
 *
 * The schemas are read as plain JSON (the document is generated; nothing here trusts a field to
 * have a type it was not checked for).
 */
import type { Child } from 'hono/jsx';

type Json = Readonly<Record<string, unknown>>;

/** A JSON object, or undefined for anything else. */
export const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The anchor of a component schema on the reference page. */
export const schemaAnchor = (name: string) => `schema-${name}`;

const REF = '#/components/schemas/';
/** The component a `$ref` names (`#/components/schemas/Clone` → `Clone`). */
export const refName = (ref: string) => (ref.startsWith(REF) ? ref.slice(REF.length) : ref);

/** Text with `code` spans, as the document's descriptions write them. */
export function Prose(p: { text: string | undefined }) {
  if (!p.text) return null;
  return <>{p.text.split('`').map((part, i) => (i % 2 ? <code>{part}</code> : part))}</>;
}

const variantsOf = (s: Json) =>
  list(s.oneOf ?? s.anyOf)
    .map(obj)
    .filter((v): v is Json => Boolean(v));

/** The values of a string enum written as `enum`, `const`, or variants that each are one of those. */
function enumOf(s: Json): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  if ('const' in s) return [s.const];
  const variants = variantsOf(s);
  if (!variants.length) return undefined;
  const values = variants.map(enumOf);
  return values.every((v) => v) ? values.flat() : undefined;
}

/** The fields a value of this schema has inside it: an object's, an array item's, a map value's. */
function innerOf(s: Json): Json | undefined {
  if (s.$ref) return undefined;
  if (s.properties || (variantsOf(s).length && !enumOf(s))) return s;
  const inner = obj(s.items) ?? obj(s.additionalProperties);
  return inner ? innerOf(inner) : undefined;
}

function TypeOf(p: { schema: Json }): Child {
  const s = p.schema;
  const ref = text(s.$ref);
  if (ref) return <a href={`#${schemaAnchor(refName(ref))}`}>{refName(ref)}</a>;
  const items = obj(s.items);
  if (items)
    return (
      <>
        array of <TypeOf schema={items} />
      </>
    );
  const values = obj(s.additionalProperties);
  if (values && !s.properties)
    return (
      <>
        map of <TypeOf schema={values} />
      </>
    );
  const type = Array.isArray(s.type) ? s.type.join(' | ') : text(s.type);
  if (type) return type;
  if (enumOf(s)) return 'string';
  if (variantsOf(s).length) return 'one of';
  return 'any';
}

// z.toJSONSchema writes the safe-integer range on every integer: no news to a reader.
const SAFE = Number.MAX_SAFE_INTEGER;

function range(min: number | undefined, max: number | undefined, what: string): string | undefined {
  if (min !== undefined && max !== undefined) return `${what}${min}–${max}`;
  if (min !== undefined) return `${what}≥ ${min}`;
  if (max !== undefined) return `${what}≤ ${max}`;
  return undefined;
}

/** What a value must be beyond its type: values, lengths, bounds, a pattern, its default. */
function Constraints(p: { schema: Json }) {
  const s = p.schema;
  const values = enumOf(s);
  const min = num(s.minimum);
  const max = num(s.maximum);
  const facts = [
    range(num(s.minLength), num(s.maxLength), 'length '),
    range(min === -SAFE ? undefined : min, max === SAFE ? undefined : max, ''),
    range(num(s.minItems), num(s.maxItems), 'items '),
    text(s.format),
  ].filter(Boolean);
  const pattern = text(s.pattern);
  return (
    <>
      {values && (
        <span class="values">
          {values.length === 1 ? '= ' : 'one of '}
          {values.map((v, i) => (
            <>
              {i ? ', ' : ''}
              <code>{JSON.stringify(v)}</code>
            </>
          ))}
        </span>
      )}
      {facts.map((f) => (
        <span class="constraint">{f}</span>
      ))}
      {pattern && (
        <span class="constraint">
          pattern <code>{pattern}</code>
        </span>
      )}
      {s.default !== undefined && (
        <span class="constraint">
          default <code>{JSON.stringify(s.default)}</code>
        </span>
      )}
    </>
  );
}

/** The type, constraints and description of a schema, on one line. */
function Line(p: { schema: Json; required?: boolean }) {
  const description = text(p.schema.description) ?? variantsOf(p.schema).map((v) => text(v.description))[0];
  return (
    <>
      <span class="type">
        <TypeOf schema={p.schema} />
      </span>
      {p.required && <span class="required">required</span>}
      <Constraints schema={p.schema} />
      {description && (
        <span class="description">
          <Prose text={description} />
        </span>
      )}
    </>
  );
}

/** The fields (or variants) inside a schema, indented. */
function Inner(p: { schema: Json }) {
  const inner = innerOf(p.schema);
  if (!inner) return null;
  const properties = obj(inner.properties);
  if (properties) {
    const required = new Set(list(inner.required));
    return (
      <ul class="fields">
        {Object.entries(properties).map(([name, v]) => {
          const field = obj(v) ?? {};
          return (
            <li>
              <code class="field">{name}</code> <Line schema={field} required={required.has(name)} />
              <Inner schema={field} />
            </li>
          );
        })}
      </ul>
    );
  }
  return (
    <ol class="variants">
      {variantsOf(inner).map((v) => (
        <li>
          <Line schema={v} />
          <Inner schema={v} />
        </li>
      ))}
    </ol>
  );
}

/** A schema shown whole: its line, then what is inside it. `resolve` expands a top-level `$ref` once. */
export function SchemaView(p: { schema: unknown; resolve?: (name: string) => unknown }) {
  const s = obj(p.schema) ?? {};
  const ref = text(s.$ref);
  const target = ref && p.resolve ? obj(p.resolve(refName(ref))) : undefined;
  return (
    <div class="schema">
      <div class="line">
        <Line schema={s} />
      </div>
      <Inner schema={target ?? s} />
    </div>
  );
}
