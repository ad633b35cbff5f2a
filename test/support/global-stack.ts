/** Starts one local stack in a temp home for the whole run; suites reach it through `inject`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
