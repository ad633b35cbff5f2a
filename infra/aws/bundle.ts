/**
 * Bundles the functions' Lambda entry with esbuild at synth time: no Docker, no network. The
 * bundle goes to a temp directory that CDK copies into its output as the function's asset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { BundleError } from './errors';

export const LAMBDA_ENTRY = fileURLToPath(new URL('../../functions/entry/lambda.ts', import.meta.url));
/** The handler inside the bundle (`index.mjs`, export `handler`). */
export const LAMBDA_HANDLER = 'index.handler';

/** Writes `index.mjs` (and its source map) into a fresh directory, removed when the process exits (callers may remove it sooner). */
export function bundleFunctions(entry = LAMBDA_ENTRY): string {
  const dir = mkdtempSync(join(tmpdir(), 'encompass-lambda-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  try {
    buildSync({
      entryPoints: [entry],
      outfile: join(dir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: true,
      // Errors name themselves after their class (`new.target.name`) and callers see those names: as the Lambda
      // error type that a Catch records (an operation's error code falls back to it) and in the 500 body.
      // Minifying would rename the classes to two letters.
      keepNames: true,
      sourcemap: true,
      // The AWS SDK is bundled too, so the function runs the versions the tests ran.
      mainFields: ['module', 'main'],
      // Some CommonJS dependencies call require() for Node built-ins; ESM output needs one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
  } catch (cause) {
    rmSync(dir, { recursive: true, force: true });
    throw new BundleError(entry, { cause });
  }
  return dir;
}
