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
