import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree, freePort } from '../../../infra/local/ports';

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
