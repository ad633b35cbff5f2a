/** Host helpers for machine tests: required tools, and free loopback ports (free when asked; start the service at once). */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { promisify } from 'node:util';

/** Fails (never skips) with the Debian package to install when a tool is missing. */
export async function requireTool(tool: string, pkg: string): Promise<void> {
  await promisify(execFile)('sh', ['-c', 'command -v "$1"', 'sh', tool]).catch(() => {
    throw new Error(`${tool} is not installed; install it with: apt-get install -y ${pkg}`);
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
