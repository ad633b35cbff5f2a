/**
 * What one DynamoDB item can hold, checked before anything is written, so that input past a limit
 * is a 4xx that names the field instead of a failed write. The limits are DynamoDB's, measured on
 * DynamoDB Local 1.25 as well: 400 KiB per item; 32 levels of maps and lists counting the item
 * itself; no empty attribute name, none of 64 KiB or more; no number closer to 0 than 1e-130. The
 * document client adds one: it refuses numbers past Number.MAX_SAFE_INTEGER, in and out.
 */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Levels of maps and lists, the item itself being the first. */
export const MAX_ITEM_LEVELS = 32;
const MAX_NAME_BYTES = 65_535;
const MIN_MAGNITUDE = 1e-130;

/** A field of a value, as `a.b.0.c`. */
export type FieldPath = (string | number)[];

/** Bytes of `s` in UTF-8, without encoding it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The first part of `value` that no item can keep, as the field and what is wrong with it; `levels`
 * is how many maps and lists already enclose `value`, `maxLevels` how many may.
 */
export function unstorable(
  value: unknown,
  maxLevels: number,
  levels = 0,
  path: FieldPath = [],
): { path: FieldPath; problem: string } | undefined {
  if (typeof value === 'number') {
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER)
      return { path, problem: `is ${value}; numbers are kept up to ${Number.MAX_SAFE_INTEGER}: send a string instead` };
    if (value !== 0 && Math.abs(value) < MIN_MAGNITUDE)
      return { path, problem: `is ${value}; numbers closer to 0 than 1e-130 cannot be kept: send 0 or a string` };
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (levels + 1 > maxLevels)
    return { path, problem: `nests deeper than ${maxLevels} levels of objects and arrays; flatten it` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = unstorable(value[i], maxLevels, levels + 1, [...path, i]);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const [key, member] of Object.entries(value)) {
    if (key === '') return { path, problem: 'has a member with an empty name; give every member a name' };
    if (utf8Bytes(key) > MAX_NAME_BYTES)
      return { path, problem: 'has a member whose name is 64 KiB or longer; use a shorter name' };
    const bad = unstorable(member, maxLevels, levels + 1, [...path, key]);
    if (bad) return bad;
  }
  return undefined;
}

/** DynamoDB's size of a value: strings in UTF-8, about a byte per two digits of a number, 3 bytes per map or list plus 1 per member. */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/\D/g, '').length / 2) + 1;
  if (typeof value !== 'object' || value === null) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 1 + valueBytes(v), 3);
  return Object.entries(value).reduce((n, [k, v]) => n + 1 + utf8Bytes(k) + valueBytes(v), 3);
}

/** An item's size, and its largest attributes with their sizes (for a message that says what to shrink). */
export function itemSize(item: Record<string, unknown>): { bytes: number; largest: string[] } {
  const sizes = Object.entries(item).map(([k, v]) => [k, utf8Bytes(k) + valueBytes(v)] as const);
  return {
    bytes: sizes.reduce((n, [, s]) => n + s, 0),
    largest: [...sizes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, s]) => `${k} ${Math.ceil(s / 1024)} KiB`),
  };
}
