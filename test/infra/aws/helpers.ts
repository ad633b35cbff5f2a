/** Reading a synthesized template: intrinsic functions flattened into readable strings. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `{Fn::Join: ["", ["arn:", {Ref: "AWS::Partition"}]]}` → `arn:<AWS::Partition>`. */
export function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A directory with a stand-in Lambda bundle, for tests about the template rather than the code. */
export function standInBundle(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'encompass-standin-lambda-'));
  writeFileSync(join(dir, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200 });\n');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `encompass-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
