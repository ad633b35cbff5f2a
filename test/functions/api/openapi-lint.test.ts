/**
 * The document the stack serves passes `redocly lint` (recommended rules, redocly.yaml) and `spectral
 * lint` (spectral:oas, .spectral.yaml) with no error and no warning: the real CLIs, on the real document.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const api = Api.admin();
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'encompass-openapi-lint-'));
  const res = await fetch(`${api.url}/v1/openapi.json`);
  expect(res.status).toBe(200);
  writeFileSync(join(dir, 'openapi.json'), await res.text());
  // The ignore file names the document relative to itself: both sit beside the document.
  for (const f of ['redocly.yaml', '.redocly.lint-ignore.yaml', '.spectral.yaml'])
    copyFileSync(join(root, f), join(dir, f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a CLI in the temp dir; a non-zero exit is returned, not thrown, so its output shows in the failure. */
async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await run('node', args, { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, out: stdout, log: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, log: err.stderr };
  }
}

describe('the served OpenAPI document', () => {
  it('passes redocly lint (recommended) with no error and no warning', async () => {
    const r = await cli([bin('redocly'), 'lint', 'openapi.json', '--config', 'redocly.yaml', '--format', 'json']);
    const report = JSON.parse(r.out) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const problems = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(r.code).toBe(0);
  }, 120_000);

  it('passes spectral lint (spectral:oas) with no error and no warning', async () => {
    const r = await cli([
      bin('spectral'),
      'lint',
      'openapi.json',
      '--ruleset',
      '.spectral.yaml',
      '--format',
      'json',
      '--output',
      'spectral.json',
    ]);
    // Spectral prints a summary after the JSON on stdout: the JSON goes to a file.
    const results = JSON.parse(readFileSync(join(dir, 'spectral.json'), 'utf8')) as {
      code: string;
      path: string[];
      message: string;
    }[];
    expect(results.map((p) => `${p.code} ${p.path.join('.')}: ${p.message}`)).toEqual([]);
    expect(r.code).toBe(0);
  }, 120_000);
});
