/** How answers are shown: aligned tables for people, the API's JSON unchanged for scripts (`--json`). */
import type { Json } from './client';

/** A column of a table: its heading and how a row's cell is read. */
export interface Column {
  head: string;
  /** A dotted path into the row (`resource.name`), or a function of it. */
  get: string | ((row: Json) => unknown);
}

/** `resource.name` of `row`; undefined where the path ends early. */
export function pick(row: unknown, path: string): unknown {
  let v: unknown = row;
  for (const k of path.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Json)[k];
  return v;
}

/** A cell: strings as they are, arrays joined, objects as compact JSON, nothing as `-`. */
export function cell(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/\s+/g, ' ');
}

/** Rows under their headings, each column as wide as its widest cell; the last column is not padded. */
export function table(rows: Json[], columns: Column[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(typeof c.get === 'string' ? pick(r, c.get) : c.get(r))));
  const all = [columns.map((c) => c.head), ...cells];
  const widths = columns.map((_, i) => Math.max(...all.map((line) => line[i]!.length)));
  return all
    .map((line) => line.map((v, i) => (i === line.length - 1 ? v : v.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** One record, a field a line: scalars as they are, nested objects as compact JSON. */
export function fields(record: Json): string {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${`${k}:`.padEnd(width + 1)}  ${cell(record[k])}`).join('\n');
}

export function bytes(n: unknown): string {
  if (typeof n !== 'number') return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** `3s`, `5m`, `2h`, `4d` since an ISO time. */
export function age(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** What the commands print to: stdout for the answer, stderr for progress and messages. */
export interface Out {
  json: boolean;
  print(text: string): void;
  note(text: string): void;
}

export const stdio = (json: boolean): Out => ({
  json,
  print: (t) => process.stdout.write(`${t}\n`),
  note: (t) => process.stderr.write(`${t}\n`),
});
