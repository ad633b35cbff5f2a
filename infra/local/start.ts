/**
 * `npm start`: the whole stack on this machine. Data under $ENCOMPASS_HOME (default ./.encompass),
 * the API on $ENCOMPASS_PORT (default 8787). Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops every part,
 * the agent first; a second Ctrl-C kills them at once. Killed outright (SIGKILL), the stack takes its
 * children along through their lifelines; and since `npm start` is a chain of processes (npm, sh,
 * this one), the stack also stops when a process of that chain is killed. It runs as
 * `node --import tsx`, not under the tsx CLI, whose signal relay kills a child that is slow to answer.
 */
import { resolve } from 'node:path';
import { launchers, watchLaunchers } from './launchers';
import { startStack } from './stack';

const home = resolve(process.env.ENCOMPASS_HOME ?? '.encompass');
const port = Number(process.env.ENCOMPASS_PORT ?? 8787);
const log = (line: string) => console.log(line);

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
  API:          ${stack.url}/v1   (OpenAPI: ${stack.url}/v1/openapi.json)
  admin token:  ${stack.adminToken}   (also in ${home}/admin-token)
  data:         ${home}   logs: ${home}/logs
Press Ctrl-C to stop.`);
} catch (e) {
  console.error(`ENCOMPASS could not start: ${(e as Error).message}`);
  process.exit(1);
}
