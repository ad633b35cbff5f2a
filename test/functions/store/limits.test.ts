/** What a DynamoDB item can hold, and how deep a body nests, checked before anything is parsed or written. */
import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../../functions/http/validate';
import { itemSize, unstorable, utf8Bytes } from '../../../functions/store/limits';

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

describe('unstorable', () => {
  it('allows 32 levels of maps counting the item, as DynamoDB does, and names the field past that', () => {
    expect(unstorable({ x: nest(31) }, 32)).toBeUndefined();
    const bad = unstorable({ x: nest(32) }, 32);
    expect(bad?.path.join('.')).toBe(`x${'.a'.repeat(31)}`);
    expect(bad?.problem).toContain('deeper than 32 levels');
  });

  it('refuses empty member names and numbers DynamoDB or the document client cannot keep', () => {
    expect(unstorable({ s: { '': 1 } }, 32)).toMatchObject({ path: ['s'], problem: expect.stringContaining('empty') });
    expect(unstorable({ n: [1, 2 ** 53] }, 32)?.path).toEqual(['n', 1]);
    expect(unstorable({ n: 1e-200 }, 32)?.problem).toContain('closer to 0');
    expect(unstorable({ n: [0, -1.5, Number.MAX_SAFE_INTEGER, 1e-100], s: '', b: false, z: null }, 32)).toBeUndefined();
  });
});

describe('itemSize', () => {
  it('counts strings in UTF-8 and names the largest attributes', () => {
    expect(utf8Bytes('aé€😀')).toBe(1 + 2 + 3 + 4);
    expect(utf8Bytes('\ud800')).toBe(3);
    const size = itemSize({ pk: 'machine#x', settings: { blob: 'x'.repeat(5000) }, cpus: 4 });
    expect(size.bytes).toBeGreaterThan(5000);
    expect(size.largest[0]).toBe('settings 5 KiB');
  });
});

describe('jsonDepth', () => {
  it('counts levels of objects and arrays, not brackets inside strings', () => {
    expect(jsonDepth('{"a":[{"b":"[[[[{{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(jsonDepth('['.repeat(100_000), 64)).toBe(65);
  });
});
