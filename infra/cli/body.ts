/**
 * Request bodies from the command line: `--body JSON` (or `@file`, or `-` for stdin) as the base, the
 * command's own flags over it, and `--set key=value` last (dotted keys nest; a value that parses as
 * JSON is taken as JSON, else as a string: `--set cpus=4 --set profile.service=web`).
 */
import { readFileSync } from 'node:fs';
import type { Json } from './client';
import { UsageError } from './errors';

/** Parses JSON given on the command line, saying which flag held it when it does not parse. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON (${(e as Error).message}): ${text.slice(0, 80)}`);
  }
}

/** `--body`: inline JSON, `@file` or `-` (stdin); it must be a JSON object. */
export function readBody(arg: string | undefined): Json {
  if (arg === undefined) return {};
  let text = arg;
  if (arg === '-') text = readFileSync(0, 'utf8');
  else if (arg.startsWith('@')) {
    try {
      text = readFileSync(arg.slice(1), 'utf8');
    } catch (e) {
      throw new UsageError(`--body ${arg}: ${(e as Error).message}`);
    }
  }
  const v = parseJson(text, '--body');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--body must be a JSON object');
  return v as Json;
}

/** `value` as JSON when it parses, else the string itself. */
export function loose(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Sets `path` (dotted) in `target`, making the objects on the way. */
export function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)!] = value;
}

/** Splits `key=value`; a missing `=` is a usage error naming the flag. */
export function keyValue(arg: string, flag: string): [string, string] {
  const i = arg.indexOf('=');
  if (i <= 0) throw new UsageError(`${flag} takes key=value, not "${arg}"`);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

/** Commander collectors for repeatable flags. */
export const collect = (v: string, all: string[] = []) => [...all, v];

export function integer(flag: string) {
  return (v: string) => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${flag} takes a whole number, not "${v}"`);
    return Number(v);
  };
}

/** Applies `--set key=value …` to `body`. */
export function applySets(body: Json, sets: string[] | undefined): Json {
  for (const s of sets ?? []) {
    const [k, v] = keyValue(s, '--set');
    setPath(body, k, loose(v));
  }
  return body;
}
