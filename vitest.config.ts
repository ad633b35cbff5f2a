import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One local stack for the API suites; suites that restart a stack start their own.
    globalSetup: ['test/support/global-stack.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
  },
});
