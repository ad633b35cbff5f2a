import { createServer } from 'node:net';
import { NoFreePortError, PortBusyError } from './errors';

/**
 * A TCP port that was free on `host` a moment ago (the OS picks it; the listener is closed again).
 * Another process may take it before the caller binds, so callers should bind soon after.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err) => reject(new NoFreePortError(host, { cause: err })));
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new NoFreePortError(host))));
    });
  });
}

/** Resolves if `port` on `host` can be bound now (the listener is closed again); else a PortBusyError. */
export function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortBusyError(host, port, { cause: err }) : err),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}
