import { createServer } from 'node:net';
import { NoFreePortError, PortBusyError } from './errors';

/** Binds `port` on `host` (0: the OS picks one), closes the listener again, and answers the port it had. */
function bindOnce(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port that was free on `host` a moment ago (the OS picks it; the listener is closed again).
 * Another process may take it before the caller binds, so callers should bind soon after.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await bindOnce(0, host).catch((err) => {
    throw new NoFreePortError(host, { cause: err });
  });
  if (port > 0) return port;
  throw new NoFreePortError(host);
}

/** Resolves if `port` on `host` can be bound now (the listener is closed again); else a PortBusyError. */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  await bindOnce(port, host).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new PortBusyError(host, port, { cause: err }) : err;
  });
}

/** Whether `e` (or its cause) says an address was in use: Node's EADDRINUSE, Miniflare's ERR_ADDRESS_IN_USE. */
function addressInUse(e: unknown): boolean {
  for (let x = e as { code?: string; cause?: unknown } | undefined; x; x = x.cause as typeof x)
    if (x.code === 'EADDRINUSE' || x.code === 'ERR_ADDRESS_IN_USE') return true;
  return false;
}

/**
 * Starts something on `port`, or with `port` 0 on a port freePort hands out: that one may be taken
 * by another process before the start binds it, so then it is tried again on another, a few times.
 */
export async function onFreePort<T>(
  port: number,
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<{ port: number; value: T }> {
  for (let i = 1; ; i++) {
    const chosen = port || (await freePort());
    try {
      return { port: chosen, value: await start(chosen) };
    } catch (e) {
      if (port || i >= attempts || !addressInUse(e)) throw e;
    }
  }
}
