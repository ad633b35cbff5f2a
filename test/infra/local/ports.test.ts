import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree, freePort, onFreePort } from '../../../infra/local/ports';

describe('freePort', () => {
  it('hands out a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('hands out different ports to consecutive callers', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).toBe(3);
  });

  it('fails with a typed error for an address that is not local', async () => {
    await expect(freePort('192.0.2.1')).rejects.toMatchObject({ code: 'no_free_port' });
  });
});

describe('assertPortFree', () => {
  it('passes for a free port and refuses a bound one, naming ENCOMPASS_PORT', async () => {
    const port = await freePort();
    await expect(assertPortFree(port)).resolves.toBeUndefined();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await expect(assertPortFree(port)).rejects.toMatchObject({
        code: 'port_busy',
        message: expect.stringContaining('ENCOMPASS_PORT='),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('onFreePort', () => {
  const busy = Object.assign(new Error('Address already in use'), { code: 'ERR_ADDRESS_IN_USE' });

  it('chooses another port when the one it chose was taken before the start bound it', async () => {
    const tried: number[] = [];
    const r = await onFreePort(0, async (port) => {
      tried.push(port);
      if (tried.length < 3) throw new Error('wrapped', { cause: busy });
      return 'up';
    });
    expect(r).toEqual({ port: tried[2], value: 'up' });
    expect(tried).toHaveLength(3);
  });

  it('gives up after its attempts, and never retries a port it was given or another error', async () => {
    await expect(onFreePort(0, () => Promise.reject(busy), 2)).rejects.toBe(busy);
    let calls = 0;
    await expect(
      onFreePort(8787, () => {
        calls++;
        return Promise.reject(busy);
      }),
    ).rejects.toBe(busy);
    expect(calls).toBe(1);
    const other = new Error('no workerd');
    await expect(onFreePort(0, () => Promise.reject(other))).rejects.toBe(other);
  });
});
