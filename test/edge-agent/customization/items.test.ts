// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} in plain strings is the customization syntax under test.
import { describe, expect, it } from 'vitest';
import { resolveItems } from '../../../edge-agent/customization/items';

const resolve = (items: unknown[], variables: Record<string, unknown> = {}, canReadSources = false) =>
  resolveItems(items, variables, 0, items.length, { canReadSources });
const problem = (items: unknown[], variables: Record<string, unknown> = {}) => {
  try {
    resolve(items, variables);
  } catch (error) {
    return error as Error & { code: string; index?: number };
  }
  throw new Error('expected the items to be refused');
};

describe('resolveItems', () => {
  it('fills ${name} in path, content, pattern and replacement', () => {
    const items = [
      { type: 'file', path: '/etc/${app}.conf', content: 'host=${host}\n', mode: 0o600 },
      { type: 'replace', path: '/etc/hosts', pattern: '^${ip}\\s', replacement: '$&${host} ', flags: 'gm' },
    ];
    expect(resolve(items, { app: 'web', host: 'h1', ip: '10.0.0.1' })).toEqual([
      { index: 0, type: 'file', path: '/etc/web.conf', content: 'host=h1\n', mode: 0o600 },
      {
        index: 1,
        type: 'replace',
        path: '/etc/hosts',
        pattern: '^10\\.0\\.0\\.1\\s',
        replacement: '$&h1 ',
        flags: 'gm',
      },
    ]);
  });

  it('checks only the items from `from` up to `to`', () => {
    const items = [{ type: 'bogus' }, { type: 'file', path: '/a', content: 'x' }, { type: 'bogus' }];
    expect(resolveItems(items, {}, 1, 2, { canReadSources: false })).toHaveLength(1);
  });

  it('lists every missing variable once, sorted, with the items using it', () => {
    const error = problem([
      { type: 'file', path: '/etc/${b}', content: '${a}${a}' },
      { type: 'replace', path: '/x', pattern: '${c}', replacement: '${a}' },
    ]);
    expect(error).toMatchObject({
      code: 'missing_variable',
      names: ['a', 'b', 'c'],
      usedBy: { a: [0, 1], b: [0], c: [1] },
    });
    expect(error.message).toContain('$${name}');
  });

  it.each([
    ['an unknown type', { type: 'template', path: '/a' }, /unknown; use 'file', 'replace' or 'registry'/],
    ['a misspelt field', { type: 'file', path: '/a', contents: 'x' }, /unknown field\(s\) contents/],
    [
      'both content and source',
      { type: 'file', path: '/a', content: 'x', source: 's' },
      /exactly one of 'content' or 'source'/,
    ],
    ['neither content nor source', { type: 'file', path: '/a' }, /exactly one/],
    ['a source with no way to read it', { type: 'file', path: '/a', source: 's' }, /no way to read sources/],
    ['a relative path', { type: 'file', path: 'etc/a', content: '' }, /not absolute/],
    ['a path with ..', { type: 'file', path: '/etc/../a', content: '' }, /'\.\.' component/],
    [
      'a mode beyond the permission bits',
      { type: 'file', path: '/a', content: '', mode: 0o100644 },
      /from 0 to 0o7777/,
    ],
    [
      'a non-string pattern',
      { type: 'replace', path: '/a', pattern: 1, replacement: '' },
      /'pattern' must be a string/,
    ],
    ['a malformed reference', { type: 'file', path: '/a', content: '${not a name}' }, /write \$\$\{ for a literal/],
    ['something that is not an object', 'file:/a', /must be an object/],
  ])('refuses %s as invalid_item, saying what to fix', (_what, item, message) => {
    const error = problem([{ type: 'file', path: '/ok', content: '' }, item]);
    expect(error).toMatchObject({ code: 'invalid_item', index: 1 });
    expect(error.message).toMatch(message);
  });

  it('finds a path made relative by a variable', () => {
    expect(problem([{ type: 'file', path: '${dir}/a', content: '' }], { dir: 'etc' })).toMatchObject({
      code: 'invalid_item',
    });
  });

  it.each([
    ['an invalid pattern', '(', ''],
    ['the sticky flag', 'a', 'y'],
    ['a repeated flag', 'a', 'gg'],
    ['an escape the u flag rejects', '\\-', 'u'],
  ])('refuses %s as invalid_pattern', (_what, pattern, flags) => {
    expect(problem([{ type: 'replace', path: '/a', pattern, replacement: '', flags }])).toMatchObject({
      code: 'invalid_pattern',
      index: 0,
    });
  });

  it('escapes variable values inside a pattern, so they match literally even under the u flag', () => {
    const [item] = resolve([{ type: 'replace', path: '/a', pattern: '${v}', replacement: '', flags: 'u' }], {
      v: 'a-b.c(d)',
    });
    expect(item).toMatchObject({ pattern: 'a-b\\.c\\(d\\)' });
  });

  it('refuses variables that are not strings', () => {
    expect(problem([{ type: 'file', path: '/a', content: '' }], { port: 8080 })).toMatchObject({
      code: 'invalid_variable',
    });
  });

  it('refuses a range outside the list or going backwards', () => {
    const items = [{ type: 'file', path: '/a', content: '' }];
    expect(() => resolveItems(items, {}, 0, 2, { canReadSources: false })).toThrow(
      expect.objectContaining({ code: 'invalid_range' }),
    );
    expect(() => resolveItems(items, {}, 1, 0, { canReadSources: false })).toThrow(
      expect.objectContaining({ code: 'invalid_range' }),
    );
  });
});
