/**
 * Customization items and their validation. All items of a range are checked, and their variables
 * filled in, before anything in the image changes.
 */
import { HIVE_FILES, type RegistryItem, registryItem, SECRET_NAME } from '../../statemachines/customization';
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

export type { RegistryItem };
export type CustomizationItem = FileItem | ReplaceItem | RegistryItem;

/** An item with its variables filled in, ready to apply. */
export type ResolvedItem =
  | { index: number; type: 'file'; path: string; content?: string; source?: string; mode?: number }
  | { index: number; type: 'replace'; path: string; pattern: string; replacement: string; flags: string }
  | (RegistryItem & { index: number; path: string });

const KEYS: Record<string, string[]> = {
  file: ['type', 'path', 'content', 'source', 'mode'],
  replace: ['type', 'path', 'pattern', 'replacement', 'flags'],
  registry: ['type', 'hive', 'key', 'name', 'valueType', 'data'],
};
const FLAGS = /^(?!.*(.).*\1)[gimsu]*$/;

export function checkRange(from: number, to: number, length: number): void {
  if (!Number.isInteger(from) || !Number.isInteger(to))
    throw new InvalidRangeError(`from (${from}) and to (${to}) must be integers`);
  if (from < 0 || from > to || to > length) {
    throw new InvalidRangeError(`need 0 <= from (${from}) <= to (${to}) <= number of items (${length})`);
  }
}

/**
 * The `${secret:NAME}` names items[from..to) use, each with the indexes of the items using it (the
 * texts a secret may stand in only; resolveItems refuses one anywhere else).
 */
export function secretsUsed(items: readonly unknown[], from: number, to: number): Map<string, number[]> {
  const used = new Map<string, number[]>();
  for (const [i, raw] of items.slice(from, to).entries()) {
    const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const texts = [item.content, item.replacement, ...[item.type === 'registry' ? item.data : []].flat()];
    for (const text of texts.filter((t): t is string => typeof t === 'string'))
      for (const name of substitute(text, {}, 'text').secrets) used.set(name, [...(used.get(name) ?? []), from + i]);
  }
  return used;
}

/**
 * Validates items[from..to) and fills in their variables and, from `secrets`, the values of the
 * `${secret:NAME}` they use; throws the first problem found.
 */
export function resolveItems(
  items: readonly unknown[],
  variables: Record<string, unknown>,
  from: number,
  to: number,
  options: { canReadSources: boolean; secrets?: ReadonlyMap<string, string> },
): ResolvedItem[] {
  checkRange(from, to, items.length);
  checkVariables(variables);
  const range = items.slice(from, to).map((item, i) => checkShape(item, from + i, options.canReadSources));
  const usedBy: Record<string, number[]> = {};
  const resolved = range.map((item) => {
    const fill = (text: string, context: Context, secretsAllowed = false) => {
      const result = substitute(text, variables, context, secretsAllowed ? options.secrets : undefined);
      for (const name of result.secrets) {
        if (!secretsAllowed)
          throw new InvalidItemError(
            item.index,
            `${JSON.stringify(text)} names a secret; a \${secret:NAME} may stand only in content, a replacement or registry data`,
          );
        if (!SECRET_NAME.test(name))
          throw new InvalidItemError(
            item.index,
            `\${secret:${name}} is not a secret name: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
          );
        if (!options.secrets?.has(name)) throw new InvalidItemError(item.index, `secret ${name} was not resolved`);
      }
      if (result.malformed) {
        throw new InvalidItemError(
          item.index,
          `${JSON.stringify(text)} has a '\${' that starts no \${name} reference; write $\${ for a literal \${`,
        );
      }
      for (const name of result.missing) usedBy[name] = [...new Set([...(usedBy[name] ?? []), item.index])];
      return result.value;
    };
    if (item.type === 'registry') {
      const data = item.data;
      return {
        ...item,
        key: fill(item.key, 'text'),
        name: fill(item.name, 'text'),
        data:
          typeof data === 'number'
            ? data
            : Array.isArray(data)
              ? data.map((d) => fill(d, 'text', true))
              : fill(data, 'text', item.valueType !== 'binary'),
      };
    }
    const path = fill(item.path, 'text');
    if (item.type === 'file') {
      return { ...item, path, ...(item.content !== undefined ? { content: fill(item.content, 'text', true) } : {}) };
    }
    return {
      ...item,
      path,
      pattern: fill(item.pattern, 'pattern'),
      replacement: fill(item.replacement, 'replacement', true),
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
  if (!keys)
    throw new InvalidItemError(
      index,
      `type ${JSON.stringify(item.type)} is unknown; use 'file', 'replace' or 'registry'`,
    );
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
  if (item.type === 'registry') {
    const parsed = registryItem.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidItemError(index, `'${issue.path.join('.') || 'item'}' ${issue.message}`);
    }
    return { ...parsed.data, index, path: HIVE_FILES[parsed.data.hive] };
  }
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
  if (item.type === 'registry') {
    const { index: _index, path: _path, ...filled } = item;
    const parsed = registryItem.safeParse(filled);
    if (!parsed.success && parsed.error.issues[0])
      throw new InvalidItemError(
        item.index,
        `with its variables filled in, '${parsed.error.issues[0].path.join('.')}' ${parsed.error.issues[0].message}`,
      );
    return;
  }
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
