/** JSON merge patch as RFC 7396 defines it, and the patch document the OpenAPI description shows. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyMergePatch, mergePatch, mergePatchJsonSchema } from '../../../functions/http/merge-patch';

describe('mergePatch', () => {
  // RFC 7396, appendix A: target, patch, result.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('merges %j with %j into %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('leaves the target as it was', () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2, c: 3 } });
    expect(target).toEqual({ a: { b: 1 } });
  });

  it('keeps a "__proto__" member a plain member instead of a prototype', () => {
    const merged = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect((merged as { polluted?: boolean }).polluted).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('applyMergePatch', () => {
  const schema = z.object({ n: z.number(), tags: z.record(z.string(), z.string()).default({}) }).strict();
  const record = { id: 'x-1', rev: 3, n: 1, tags: { a: '1' }, createdAt: 't0', updatedAt: 't1' };
  const apply = (patch: Record<string, unknown>) =>
    applyMergePatch({ kind: 'thing', schema }, record, { n: record.n, tags: record.tags }, patch);

  it('changes only what the patch names, and a removed map becomes empty', () => {
    expect(apply({ tags: { b: '2' } })).toEqual({ n: 1, tags: { a: '1', b: '2' } });
    expect(apply({})).toEqual({ n: 1, tags: { a: '1' } });
    expect(apply({ tags: null })).toEqual({ n: 1, tags: {} });
  });

  it('refuses a result that does not fit, naming the field', () => {
    expect(() => apply({ n: null })).toThrow(/body\.n: /);
    expect(() => apply({ n: 'one' })).toThrow(/body\.n: /);
    expect(() => apply({ colour: 'red' })).toThrow(/body\.colour: is not a field here/);
  });

  it('takes server fields sent back unchanged, refuses them changed, and treats rev as a precondition', () => {
    expect(apply({ id: 'x-1', createdAt: 't0', rev: 3, n: 2 })).toEqual({ n: 2, tags: { a: '1' } });
    expect(() => apply({ id: 'x-2' })).toThrow(/body\.id: is set by the server/);
    expect(() => apply({ rev: 2, n: 2 })).toThrow(/changed while this request ran/);
  });
});

describe('mergePatchJsonSchema', () => {
  it('makes every member optional, lets null remove what may be absent, and drops defaults', () => {
    const doc = z.toJSONSchema(
      z.object({ n: z.number(), tags: z.record(z.string(), z.string()).default({}), o: z.object({ x: z.string() }) }),
      { io: 'input' },
    ) as Record<string, unknown>;
    const patch = mergePatchJsonSchema(doc) as { required?: unknown; properties: Record<string, any> };
    expect(patch.required).toBeUndefined();
    expect(patch.properties.n).toEqual({ type: 'number' });
    expect(patch.properties.tags.anyOf[1]).toEqual({ type: 'null' });
    expect(patch.properties.tags.anyOf[0].default).toBeUndefined();
    expect(patch.properties.tags.anyOf[0].additionalProperties.anyOf[1]).toEqual({ type: 'null' });
    expect(patch.properties.o.required).toBeUndefined();
  });
});
