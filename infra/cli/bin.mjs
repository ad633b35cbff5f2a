#!/usr/bin/env node
// `encompass …`: the command line client, run from its TypeScript source through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./encompass.ts');
process.exit(await main(process.argv.slice(2)));
