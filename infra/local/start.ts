/**
 * `npm start`: the whole stack on this machine. Data under $ENCOMPASS_HOME (default ./.encompass),
 * the API on $ENCOMPASS_PORT (default 8787). Ctrl-C stops every part.
 */
import { resolve } from 'node:path';
import { startStack } from './stack';

const home = resolve(process.env.ENCOMPASS_HOME ?? '.encompass');
const port = Number(process.env.ENCOMPASS_PORT ?? 8787);

try {
  const stack = await startStack({
    home,
    port,
    log: (l) => console.log(l),
    onComponentExit: (name, code) => {
      console.error(`${name} stopped unexpectedly (exit ${code}); see ${home}/logs. Stopping the stack.`);
      void stack.stop().then(() => process.exit(1));
    },
  });
  console.log(`ENCOMPASS is up.
  API:          ${stack.url}/v1   (OpenAPI: ${stack.url}/v1/openapi.json)
  admin token:  ${stack.adminToken}   (also in ${home}/admin-token)
  data:         ${home}   logs: ${home}/logs
Press Ctrl-C to stop.`);
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.log('stopping...');
      void stack.stop().then(() => process.exit(0));
    });
} catch (e) {
  console.error(`ENCOMPASS could not start: ${(e as Error).message}`);
  process.exit(1);
}
