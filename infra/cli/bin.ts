/** The entry of the built CLI (dist/encompass.mjs). */
import { main } from './encompass';

process.exitCode = await main(process.argv.slice(2));
