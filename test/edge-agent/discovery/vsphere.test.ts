/** Discovering the VMs of a vCenter: govmomi's simulator, its inventory read back, and refused credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient } from '../../../edge-agent/drivers/machine/vsphere/client';
import { startVcsim, type Vcsim } from '../../support/vcsim/vcsim';
import { type DiscoverHarness, discoverHarness } from './context';

const USER = 'secret://local/vsphere/user';
const PASSWORD = 'secret://local/vsphere/password';
const WRONG = 'secret://local/vsphere/wrong';

describe('discovering vsphere seeds', () => {
  let sim: Vcsim;
  let h: DiscoverHarness;

  beforeAll(async () => {
    sim = await startVcsim({ vms: 1 });
    h = await discoverHarness({ [USER]: sim.username, [PASSWORD]: sim.password, [WRONG]: 'wrong-horse-battery' });
  }, 600_000);
  afterAll(async () => {
    await sim?.stop();
    await h?.cleanup();
  });

  it('reports every VM with its BIOS and instance UUIDs, MACs, CPUs, memory, power and disks', async () => {
    const client = await VimClient.login(
      { url: sim.url, username: sim.username, password: sim.password, requestTimeoutMs: 10_000, taskTimeoutMs: 10_000 },
      'the test',
    );
    // One VM running, so power is read and not assumed.
    const [running] = (await client.inventory('VirtualMachine', ['name'])).filter((o) =>
      JSON.stringify(o.props.get('name')).includes('DC0_H0_VM0'),
    );
    await client.runTask('PowerOnVM_Task', running!.obj);
    await client.logout();

    const out = await h.run({
      seeds: [{ kind: 'vsphere', address: sim.url, credentials: { user: USER, password: PASSWORD } }],
    });
    expect(out.seeds).toEqual([expect.objectContaining({ seed: 0, kind: 'vsphere', machines: 2 })]);
    expect(out.seeds[0]?.error).toBeUndefined();
    // The simulator's VPX inventory with one VM per compute resource: a standalone host and a cluster.
    expect(out.machines.map((m) => m.name).sort()).toEqual(['DC0_C0_RP0_VM0', 'DC0_H0_VM0']);
    const vm0 = out.machines.find((m) => m.name === 'DC0_H0_VM0')!;
    expect(vm0).toMatchObject({
      seed: 0,
      kind: 'vsphere',
      facts: { cpus: 1, memoryMiB: 32, power: 'on', disks: ['[LocalDS_0] DC0_H0_VM0/disk1.vmdk'] },
      settings: { endpoint: sim.url, vm: 'DC0_H0_VM0' },
    });
    expect(vm0.identifiers.uuid).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
    expect(vm0.identifiers.domainUuid).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
    expect(vm0.identifiers.domainUuid).not.toBe(vm0.identifiers.uuid);
    expect(vm0.identifiers.macs).toEqual([expect.stringMatching(/^00:0c:29(:[0-9a-f]{2}){3}$/)]);
    expect(vm0.identifiers.hypervisor).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.machines.filter((m) => m.facts.power === 'off')).toHaveLength(1);
  });

  it("reports refused credentials as the seed's error, naming the user and never the password", async () => {
    const out = await h.run({
      seeds: [{ kind: 'vsphere', address: sim.url, credentials: { user: USER, password: WRONG } }],
    });
    expect(out.machines).toEqual([]);
    const error = out.seeds[0]?.error;
    expect(error).toMatchObject({ code: 'vsphere_login_refused', message: expect.stringContaining(sim.username) });
    expect(error?.message).not.toContain('wrong-horse-battery');
  });

  it('says what a vsphere seed address must be', async () => {
    const out = await h.run({
      seeds: [{ kind: 'vsphere', address: 'ftp://vc', credentials: { user: USER, password: PASSWORD } }],
    });
    expect(out.seeds[0]?.error).toMatchObject({ code: 'seed_address_invalid' });
  });
});
