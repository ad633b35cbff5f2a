// Bundles the CLI into one ESM file with its dependencies (npm `prepare`), so it starts without tsx.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./bin.ts', import.meta.url).pathname],
  outfile: new URL('./dist/encompass.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: {
    // commander is CommonJS: its require() calls need a require in the ESM bundle.
    js: "#!/usr/bin/env node\nimport { createRequire as __encompassRequire } from 'node:module';\nconst require = __encompassRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
