/** Starts one local stack in a temp home for the whole run; suites reach it through `inject`. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { type Stack, startStack } from '../../infra/local/stack';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: {
      url: string;
      adminToken: string;
      home: string;
      endpoints: Stack['endpoints'];
      stepFunctionsCredentials: Stack['stepFunctionsCredentials'];
      env: Record<string, string>;
    };
  }
}

export default async function setup(project: TestProject) {
  const home = await mkdtemp(join(tmpdir(), 'encompass-test-'));
  // Hooks a service update may run (test/functions/api/service-updates.test.ts).
  const hooks = fileURLToPath(new URL('./hooks/', import.meta.url));
  await writeFile(
    join(home, 'hooks.json'),
    JSON.stringify({
      'set-version-2': { command: [join(hooks, 'set-version.sh'), '2'], on: 'image', doc: 'writes 2 to /etc/version' },
      'note-machine': { command: [join(hooks, 'note-machine.sh'), join(home, 'noted')], on: 'machine' },
      'always-fails': { command: ['sh', '-c', 'echo the update does not apply >&2; exit 4'], on: 'image' },
    }),
  );
  await mkdir(join(home, 'noted'));
  // Discovery schedules are looked for every 2 s (test/functions/api/discovery.test.ts waits for one).
  process.env.ENCOMPASS_SCHEDULES_EVERY_MS = '2000';
  const stack = await startStack({ home, port: 0 });
  project.provide('stack', {
    url: stack.url,
    adminToken: stack.adminToken,
    home,
    endpoints: stack.endpoints,
    stepFunctionsCredentials: stack.stepFunctionsCredentials,
    env: stack.env,
  });
  return async () => {
    await stack.stop();
    await rm(home, { recursive: true, force: true });
  };
}
