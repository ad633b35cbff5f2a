/**
 * A lock that test files running at once share, for what a site holds once: its one discovery at a
 * time and its discovery schedule. It is an abstract Unix socket (as infra/local/lock.ts's home
 * lock): the kernel holds it exactly as long as the holder's process lives, so it is never stale.
 */
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

function listen(name: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ path: `\0encompass-test-${name}` }, () => resolve(server));
  });
}

/** Runs `fn` holding the lock `name`, waiting (up to `timeoutMs`) while another test file holds it. */
export async function withSiteLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 240_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let server = await listen(name);
  while (!server) {
    if (Date.now() > until) throw new Error(`the test lock ${name} was held for more than ${timeoutMs} ms`);
    await sleep(200);
    server = await listen(name);
  }
  try {
    return await fn();
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** The local site's discoveries and discovery schedule, one test at a time across the files. */
export const withLocalDiscovery = <T>(fn: () => Promise<T>) => withSiteLock('local-discovery', fn);
