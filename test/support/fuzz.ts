/**
 * Generated request input for the API fuzz suite: bodies (valid ones from a route's template,
 * mutations of them, any JSON, text that is not JSON), query strings and path parameters.
 */
import fc from 'fast-check';

export type Body = { json: unknown } | { text: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const nest = (levels: number): unknown => (levels === 0 ? 'x' : { a: nest(levels - 1) });

/** Objects that a record cannot keep as they are: empty names, numbers out of range, too deep, too big. */
export const hostileObject: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(
  { '': 1 },
  { n: 1e300 },
  { n: 2 ** 53 },
  { n: -1e-200 },
  { list: [1, [2, [3, 2 ** 60]]] },
  { deep: nest(20) },
  { deeper: nest(40) },
  { big: 'x'.repeat(300_000) },
  { wide: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'v'.repeat(20)])) },
  JSON.parse('{"__proto__": {"admin": true}}'),
  { 'a.b': { 'c d': '\ud800' } },
);

/** JSON that tends to break things: deep, wide, huge, odd keys and numbers. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileObject,
  fc.constantFrom(
    null,
    [],
    {},
    '',
    0,
    -1,
    1e300,
    -1e-300,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    true,
    'x'.repeat(300_000),
    nest(20),
    nest(40),
    { '': 1 },
    { __proto__: null, constructor: 'x' },
    JSON.parse('{"__proto__": {"admin": true}}'),
    { a: [[[[[[[[[[1]]]]]]]]]] },
    Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])),
    '\ud800',
    '\u0000',
    '../../etc/passwd',
    '${secret:x}',
  ),
);

/** One change to a valid body: a member dropped, nulled, replaced by hostile JSON, or one added. */
export function mutation(valid: unknown): fc.Arbitrary<unknown> {
  if (!isObject(valid) || Object.keys(valid).length === 0)
    return fc.oneof(hostileJson, fc.dictionary(fc.string({ maxLength: 8 }), hostileJson, { maxKeys: 3 }));
  const keys = Object.keys(valid);
  const key = fc.constantFrom(...keys);
  return fc.oneof(
    key.map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))),
    key.map((k) => ({ ...valid, [k]: null })),
    fc.tuple(key, hostileJson).map(([k, v]) => ({ ...valid, [k]: v })),
    fc.tuple(fc.string({ maxLength: 10 }), hostileJson).map(([k, v]) => ({ ...valid, [k]: v })),
    fc
      .tuple(key, fc.string({ maxLength: 10 }), hostileJson)
      .map(([k, inner, v]) => ({ ...valid, [k]: isObject(valid[k]) ? { ...valid[k], [inner]: v } : v })),
  );
}

/** Text that is not a JSON object, or not JSON at all. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{"name":',
    '{"a":1}{"b":2}',
    'null',
    '[]',
    '"text"',
    '1e999',
    '['.repeat(100_000),
    `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`,
    '\u0000',
    '\ufeff{}',
    '{"a":"\\ud800"}',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** A body for a route: mostly its template (valid) or a mutation of it, else anything. */
export function bodyFor(template: fc.Arbitrary<unknown> | undefined): fc.Arbitrary<Body> {
  const valid = template ?? fc.constant({});
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((json) => ({ json })) },
    { weight: 4, arbitrary: valid.chain(mutation).map((json) => ({ json })) },
    { weight: 1, arbitrary: hostileJson.map((json) => ({ json })) },
    { weight: 1, arbitrary: hostileText.map((text) => ({ text })) },
  );
}

/** A path parameter: one of the given refs (fixtures), or one that names nothing or cannot. */
export function refFrom(refs: readonly string[]): fc.Arbitrary<string> {
  const nothing = fc.oneof(
    fc.constantFrom(
      'no-such-thing',
      'mc-aaaaaaaaaaaa',
      'cl-zzzzzzzzzzzz',
      'x@1',
      'x@999999999999999999999',
      '..',
      '.',
      '%',
      ' ',
      '😀',
      'a'.repeat(200),
      'a'.repeat(201),
      'b'.repeat(5000),
      '\u0000',
      'name#machine#x',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  );
  return refs.length
    ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...refs) }, { weight: 2, arbitrary: nothing })
    : nothing;
}

/** A query string: paging parameters good and bad, and parameters no route knows. */
export function queryFrom(cursors: readonly string[]): fc.Arbitrary<string> {
  const limit = fc.oneof(
    fc.constantFrom('1', '5', '500', '0', '-1', '501', 'abc', '1e2', '2.5', '', '9'.repeat(400)),
    fc.integer().map(String),
  );
  const key = (o: unknown) => btoa(JSON.stringify(o));
  const cursor = fc.oneof(
    fc.constantFrom(
      ...cursors,
      'garbage',
      '%%%',
      key({}),
      key({ pk: 'a', sk: 'b', gsi1pk: 'machine', gsi1sk: 'c' }),
      key({ pk: 'a', sk: 'b', gsi1pk: 'machine', gsi1sk: 'x'.repeat(2000) }),
      'x'.repeat(2001),
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.base64String({ maxLength: 60 }),
  );
  const params = fc.record(
    {
      limit,
      cursor,
      extra: fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 })),
    },
    { requiredKeys: [] },
  );
  return params.map((p) => {
    const q = new URLSearchParams();
    if (p.limit !== undefined) q.set('limit', p.limit);
    if (p.cursor !== undefined) q.set('cursor', p.cursor);
    if (p.extra) q.append(p.extra[0], p.extra[1]);
    const s = q.toString();
    return s ? `?${s}` : '';
  });
}
