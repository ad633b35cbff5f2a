/** The agent's configuration: what it needs, and hooks that say exactly what is wrong with them. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../edge-agent/config';

describe('agent configuration', () => {
  let dir: string;
  const base = { site: 'local', api: 'http://127.0.0.1:1', token: 't', stateDir: '/tmp/x' };
  const load = async (extra: Record<string, unknown>) => {
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify({ ...base, ...extra }));
    return loadConfig(file, {});
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes named hooks', async () => {
    const c = await load({ hooks: { 'apply-patch': { command: ['/bin/true'], on: 'image', timeoutSeconds: 60 } } });
    expect(c.hooks?.['apply-patch']?.on).toBe('image');
  });

  it('enables the driver kinds it names', async () => {
    const c = await load({ drivers: { storage: ['file'], machines: ['vsphere', 'amt'] } });
    expect(c.drivers).toEqual({ storage: ['file'], machines: ['vsphere', 'amt'] });
  });

  it.each([
    [{ hooks: [] }, 'hooks must be an object'],
    [{ hooks: { Bad_Name: { command: ['x'], on: 'image' } } }, 'hook name "Bad_Name"'],
    [{ hooks: { a: { command: 'rm -rf /', on: 'image' } } }, 'hooks.a.command must be a non-empty array'],
    [{ hooks: { a: { command: [], on: 'image' } } }, 'hooks.a.command must be a non-empty array'],
    [{ hooks: { a: { command: ['x'], on: 'disk' } } }, 'hooks.a.on must be "image" or "machine"'],
    [{ hooks: { a: { command: ['x'], on: 'machine', timeoutSeconds: 0 } } }, 'hooks.a.timeoutSeconds'],
    [{ site: undefined }, 'lacks site'],
    [{ drivers: ['qemu'] }, 'drivers must be an object'],
    [{ drivers: { machines: 'qemu' } }, 'drivers.machines must be an array of kinds (sim, qemu, libvirt'],
    [{ drivers: { machines: ['qemu', 'vspere'] } }, 'drivers.machines names "vspere", not a kind (the kinds: sim,'],
    [{ drivers: { storage: ['nfs'] } }, 'drivers.storage names "nfs", not a kind (the kinds: file, iscsi)'],
    [{ drivers: { qemuBinary: '' } }, 'drivers.qemuBinary must be the path'],
  ])('refuses %j', async (extra, message) => {
    await expect(load(extra)).rejects.toThrow(message);
  });
});
