/** A server that listens on every interface, run in its own network namespace: reachable only through the stack. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forwardToSocket, isolatedCommand } from '../../../infra/local/netns';
import { freePort } from '../../../infra/local/ports';
import { pidIsGone, tempDir } from './helpers';

/** An HTTP server on 0.0.0.0:port that answers its own PID. */
const server = (port: number) => ({
  command: process.execPath,
  args: ['-e', `require('http').createServer((q,r)=>r.end(String(process.pid))).listen(${port},'0.0.0.0')`],
});

/** Whether a TCP connection to host:port is accepted; refused (or no answer in 2 s) is false. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('network namespace containment', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let bridge: ChildProcess | undefined;
  beforeEach(async () => {
    dir = await tempDir('netns');
  });
  afterEach(async () => {
    bridge?.kill('SIGKILL');
    await dir.remove();
  });

  async function start(innerPort: number, stdin: 'ignore' | 'pipe' = 'ignore') {
    const socket = join(dir.path, 'inner.sock');
    const c = isolatedCommand({ socket, innerPort, ...server(innerPort) });
    bridge = spawn(c.command, c.args, {
      stdio: [stdin, 'ignore', 'inherit'],
      env: { ...process.env, ...(stdin === 'pipe' ? { ENCOMPASS_LIFELINE: 'stdin' } : {}) },
    });
    const forward = await forwardToSocket({ port: await freePort(), socket });
    const pid = await until('the server', async () => {
      const res = await fetch(forward.endpoint, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      return res?.ok ? Number(await res.text()) : undefined;
    });
    return { socket, forward, pid };
  }

  it('answers through the forwarded port and on no interface of the host', async () => {
    const innerPort = await freePort();
    const { socket, forward, pid } = await start(innerPort);
    expect(pid).toBeGreaterThan(1);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    // The server listens on 0.0.0.0 in there; out here nothing listens on its port, on any address.
    const hosts = Object.values(networkInterfaces())
      .flatMap((a) => a ?? [])
      .filter((i) => i.family === 'IPv4')
      .map((i) => i.address);
    expect(hosts).toContain('127.0.0.1');
    for (const host of hosts) expect(await reachable(host, innerPort), host).toBe(false);
    await forward.close();
  });

  it('the server dies with the bridge, SIGKILL included, and with its lifeline', async () => {
    const a = await start(await freePort());
    bridge!.kill('SIGKILL');
    await until('the server to die with its bridge', () => pidIsGone(a.pid));
    await a.forward.close();

    const b = await start(await freePort(), 'pipe');
    bridge!.stdin!.destroy();
    await until('the server to die with its lifeline', () => pidIsGone(b.pid));
    await until('the socket to be removed', () => !existsSync(b.socket));
    await b.forward.close();
  });
});
