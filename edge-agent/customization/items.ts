/**
 * Customization items and their validation. All items of a range are checked, and their variables
 * filled in, before anything in the image changes.
 */
import { InvalidFsPathError } from '../drivers/imagefs/errors';
import { splitFsPath } from '../drivers/imagefs/fs-path';
import { InvalidItemError, InvalidPatternError, InvalidRangeError, MissingVariableError } from './errors';
import { type Context, checkVariables, substitute } from './variables';

/** Writes a file: exactly one of `content` (text) or `source` (resolved by the caller's readSource). */
export interface FileItem {
  type: 'file';
  path: string;
  content?: string;
  source?: string;
  /** Permission bits; default: the replaced file's mode, or 0644 for a new file. */
  mode?: number;
}

/** Regular-expression search and replace in an existing file (JavaScript syntax; without `g`, the first match only). */
export interface ReplaceItem {
  type: 'replace';
  path: string;
  pattern: string;
  replacement: string;
  /** Any of g, i, m, s, u. */
  flags?: string;
}

export type CustomizationItem = FileItem | ReplaceItem;

/** An item with its variables filled in, ready to apply. */
export type ResolvedItem =
  | { index: number; type: 'file'; path: string; content?: string; source?: string; mode?: number }
  | { index: number; type: 'replace'; path: string; pattern: string; replacement: string; flags: string };

const KEYS: Record<string, string[]> = {
  file: ['type', 'path', 'content', 'source', 'mode'],
  replace: ['type', 'path', 'pattern', 'replacement', 'flags'],
};
const FLAGS = /^(?!.*(.).*\1)[gimsu]*$/;

export function checkRange(from: number, to: number, length: number): void {
  if (!Number.isInteger(from) || !Number.isInteger(to))
    throw new InvalidRangeError(`from (${from}) and to (${to}) must be integers`);
  if (from < 0 || from > to || to > length) {
    throw new InvalidRangeError(`need 0 <= from (${from}) <= to (${to}) <= number of items (${length})`);
  }
}

/** Validates items[from..to) and fills in their variables; throws the first problem found. */
export function resolveItems(
  items: readonly unknown[],
  variables: Record<string, unknown>,
  from: number,
  to: number,
  options: { canReadSources: boolean },
): ResolvedItem[] {
  checkRange(from, to, items.length);
  checkVariables(variables);
  const range = items.slice(from, to).map((item, i) => checkShape(item, from + i, options.canReadSources));
  const usedBy: Record<string, number[]> = {};
  const resolved = range.map((item) => {
    const fill = (text: string, context: Context) => {
      const result = substitute(text, variables, context);
      if (result.malformed) {
        throw new InvalidItemError(
          item.index,
          `${JSON.stringify(text)} has a '\${' that starts no \${name} reference; write $\${ for a literal \${`,
        );
      }
      for (const name of result.missing) usedBy[name] = [...new Set([...(usedBy[name] ?? []), item.index])];
      return result.value;
    };
    const path = fill(item.path, 'text');
    if (item.type === 'file') {
      return { ...item, path, ...(item.content !== undefined ? { content: fill(item.content, 'text') } : {}) };
    }
    return {
      ...item,
      path,
      pattern: fill(item.pattern, 'pattern'),
      replacement: fill(item.replacement, 'replacement'),
    };
  });
  const missing = Object.keys(usedBy).sort();
  if (missing.length > 0) throw new MissingVariableError(missing, usedBy);
  for (const item of resolved) checkFilled(item);
  return resolved;
}

function checkShape(raw: unknown, index: number, canReadSources: boolean): ResolvedItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidItemError(index, 'it must be an object');
  const item = raw as Record<string, unknown>;
  const keys = KEYS[String(item.type)];
  if (!keys) throw new InvalidItemError(index, `type ${JSON.stringify(item.type)} is unknown; use 'file' or 'replace'`);
  const extra = Object.keys(item).filter((k) => !keys.includes(k));
  if (extra.length > 0)
    throw new InvalidItemError(
      index,
      `unknown field(s) ${extra.join(', ')}; a '${item.type}' item has ${keys.join(', ')}`,
    );
  const text = (key: string, required: boolean) => {
    if (item[key] === undefined && !required) return;
    if (typeof item[key] !== 'string') throw new InvalidItemError(index, `'${key}' must be a string`);
  };
  text('path', true);
  if (item.type === 'file') {
    text('content', false);
    text('source', false);
    if ((item.content === undefined) === (item.source === undefined))
      throw new InvalidItemError(index, "give exactly one of 'content' or 'source'");
    if (item.source !== undefined && !canReadSources)
      throw new InvalidItemError(index, "it has a 'source', but no way to read sources was provided");
    const mode = item.mode;
    if (mode !== undefined && !(typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777)) {
      throw new InvalidItemError(
        index,
        `mode ${JSON.stringify(mode)} must be permission bits from 0 to 0o7777 (e.g. 420 for 0644)`,
      );
    }
  } else {
    text('pattern', true);
    text('replacement', true);
    text('flags', false);
  }
  return {
    ...(item as unknown as ResolvedItem),
    index,
    ...(item.type === 'replace' ? { flags: (item.flags as string | undefined) ?? '' } : {}),
  };
}

function checkFilled(item: ResolvedItem): void {
  try {
    splitFsPath(item.path);
  } catch (error) {
    if (!(error instanceof InvalidFsPathError)) throw error;
    throw new InvalidItemError(
      item.index,
      `path ${JSON.stringify(item.path)} is not usable: ${error.reason}; give an absolute path such as /etc/hostname`,
      { cause: error },
    );
  }
  if (item.type !== 'replace') return;
  if (!FLAGS.test(item.flags))
    throw new InvalidPatternError(item.index, item.pattern, item.flags, 'unsupported or repeated flags');
  try {
    new RegExp(item.pattern, item.flags);
  } catch (error) {
    throw new InvalidPatternError(item.index, item.pattern, item.flags, (error as Error).message, { cause: error });
  }
}
