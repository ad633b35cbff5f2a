/**
 * Containment for a server that cannot choose its listening address (DynamoDB Local listens on every
 * interface). It runs in a private network namespace of its own, where nothing is reachable from any
 * host interface; a bridge in there (netns-bridge.mjs) forwards a unix socket under the stack's home
 * (mode 0600) to it, and the stack forwards 127.0.0.1:<port> to that socket. Needs `unshare` and `setpriv`
 * (util-linux) and `ip` (iproute2); user namespaces let it work without root.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SocketPathTooLongError } from './errors';

const BRIDGE = fileURLToPath(new URL('./netns-bridge.mjs', import.meta.url));

/** The command line that runs `command` inside a new network namespace, reachable through `socket`. */
export function isolatedCommand(o: { socket: string; innerPort: number; command: string; args: string[] }) {
  // sun_path holds 108 bytes with its terminating NUL.
  if (Buffer.byteLength(o.socket) > 107) throw new SocketPathTooLongError(o.socket);
  return {
    command: 'unshare',
    args: [
      '--user',
      '--map-root-user',
      '--net',
      '--',
      process.execPath,
      BRIDGE,
      o.socket,
      String(o.innerPort),
      '--',
      o.command,
      ...o.args,
    ],
  };
}

export interface Forwarder {
  endpoint: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` and forwards each connection to the unix socket `socket`. */
export function forwardToSocket(o: { port: number; socket: string }): Promise<Forwarder> {
  const open = new Set<Socket>();
  // No Nagle on the TCP side either (see netns-bridge.mjs): an answer must not wait for the client's ACK.
  const server: Server = createServer({ noDelay: true }, (outside) => {
    const inside = connect(o.socket);
    open.add(outside);
    outside.on('close', () => open.delete(outside));
    outside.pipe(inside).pipe(outside);
    const end = () => {
      outside.destroy();
      inside.destroy();
    };
    for (const s of [outside, inside]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        endpoint: `http://127.0.0.1:${o.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of open) s.destroy();
          }),
      });
    });
  });
}
