// Runs inside a private network namespace (`unshare --user --map-root-user --net`, see netns.ts): brings
// its loopback up, starts the command after `--`, and forwards each connection made to a unix socket in
// the shared file system to 127.0.0.1:<port> in here. Nothing in the namespace is reachable from any
// network interface of the host; only processes that can open the socket file reach the service.
// argv: <socket path> <port> -- <command> [args...]. It exits with the command, and stops the command
// when it is told to stop or its stdin lifeline (ENCOMPASS_LIFELINE=stdin) closes.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [socketPath, portText, dashes, command, ...args] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || dashes !== '--' || !command) {
  console.error('usage: netns-bridge.mjs <socket path> <port> -- <command> [args...]');
  process.exit(2);
}

for (const ip of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip', 'ip']) {
  try {
    execFileSync(ip, ['link', 'set', 'lo', 'up'], { stdio: 'inherit' });
    break;
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    if (ip === 'ip') throw new Error('the ip command (Debian package iproute2) is needed to bring up the loopback');
  }
}

// The command dies with this bridge, even when the bridge is killed with SIGKILL.
const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...args], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
child.on('error', (e) => {
  console.error(`netns-bridge: cannot start ${command}: ${e.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  rmSync(socketPath, { force: true });
  process.exit(code ?? (signal ? 128 : 1));
});
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill('SIGTERM'));
// A lifeline: whoever started the bridge holds the other end of stdin; when it dies, so does the bridge.
if (process.env.ENCOMPASS_LIFELINE === 'stdin') {
  process.stdin.on('end', () => child.kill('SIGTERM'));
  process.stdin.on('close', () => child.kill('SIGTERM'));
  process.stdin.resume();
}

rmSync(socketPath, { force: true });
const server = createServer((outside) => {
  // Without TCP_NODELAY a request whose body comes in a second write waits for the server's delayed ACK
  // (40 ms on Linux) before the body is passed on: every DynamoDB call from workerd would pay it.
  const inside = connect({ port, host: '127.0.0.1', noDelay: true });
  outside.pipe(inside).pipe(outside);
  const end = () => {
    outside.destroy();
    inside.destroy();
  };
  outside.on('error', end);
  inside.on('error', end);
  outside.on('close', end);
  inside.on('close', end);
});
const oldMask = process.umask(0o177);
server.listen(socketPath, () => {
  process.umask(oldMask);
  chmodSync(socketPath, 0o600);
});
