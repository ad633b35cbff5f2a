/**
 * `npm start`: the whole stack on this machine. Data under $ENCOMPASS_HOME (default ./.encompass),
 * the API on $ENCOMPASS_PORT (default 8787). Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops every part,
 * the agent first; a second Ctrl-C kills them at once. Killed outright (SIGKILL), the stack takes its
 * children along through their lifelines; and since `npm start` is a chain of processes (npm, sh,
 * this one), the stack also stops when a process of that chain is killed. It runs as
 * `node --import tsx`, not under the tsx CLI, whose signal relay kills a child that is slow to answer.
 */
import { resolve } from 'node:path';
import { assertPortFree } from './ports';

const home = resolve(process.env.ENCOMPASS_HOME ?? '.encompass');
const port = Number(process.env.ENCOMPASS_PORT ?? 8787);
const log = (line: string) => console.log(line);
const fail = (why: string, code = 1): never => {
  console.error(`ENCOMPASS could not start: ${why}`);
  process.exit(code);
};

if (!Number.isInteger(port) || port < 1 || port > 65535)
  fail(`ENCOMPASS_PORT is ${JSON.stringify(process.env.ENCOMPASS_PORT)}; set it to a TCP port from 1 to 65535`, 2);
// A busy port is found before the stack's modules load (seconds under tsx), not after its parts start.
await assertPortFree(port).catch((e: Error) => fail(e.message));
// The AWS SDK warns on Node 20 with a paragraph at every start; the README and `engines` say which Node versions run it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { launchers, watchLaunchers } = await import('./launchers');
const { startStack } = await import('./stack');
const { formatOptional, missingOptionalTools } = await import('./prereqs');

const started = startStack({ home, port, log });
/** npm forwards the terminal's Ctrl-C to the stack, which got it from the terminal already: one Ctrl-C, two signals. */
const SAME_CTRL_C_MS = 1000;
let stopping: Promise<void> | undefined;
let stoppingSince = 0;
/** A stop; `byUser` (a signal, not a launcher gone) while one runs already kills every part at once. */
const stop = (why: string, byUser: boolean) => {
  if (stopping) {
    if (!byUser || Date.now() - stoppingSince < SAME_CTRL_C_MS) return;
    // The exit hook of children.ts SIGKILLs every child's group; workerd goes by its parent-death signal.
    console.log('stopping now: killing every part');
    process.exit(130);
  }
  console.log(`${why}: stopping (Ctrl-C again to kill every part at once)...`);
  const t0 = Date.now();
  stoppingSince = t0;
  // A stop during the start waits for it, then stops what it started.
  stopping = started
    .then((stack) => stack.stop())
    .then(
      () => {
        console.log(`stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        process.exit(0);
      },
      () => process.exit(1),
    );
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig, true));
watchLaunchers(launchers(), (gone) => stop(`${gone}, which started the stack, is gone`, false));

try {
  const stack = await started;
  if (!stopping)
    console.log(`ENCOMPASS is up.
  console:      ${stack.url}/
  API:          ${stack.url}/v1/openapi.json   (the OpenAPI document)
  admin token:  ${stack.adminToken}   (also in ${home}/admin-token)
  data:         ${home}   logs: ${home}/logs
For the command line client and the README's walkthrough, in another terminal:
  export ENCOMPASS_URL=${stack.url} ENCOMPASS_TOKEN=${stack.adminToken}
Press Ctrl-C to stop.`);
  const optional = formatOptional(await missingOptionalTools());
  if (optional && !stopping) console.log(optional);
} catch (e) {
  fail((e as Error).message);
}
