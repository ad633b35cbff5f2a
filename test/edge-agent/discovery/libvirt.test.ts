/**
 * Discovering the domains of libvirt connections, on libvirt's test driver (test:///<file>: no
 * daemon, the domains a driver XML file defines). libvirt refuses two domains with one UUID on one
 * connection, so a UUID seen on two machines is two seeds, each a file with one domain.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../../support/machines-host';
import { type DiscoverHarness, discoverHarness } from './context';

const UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';

/** A test driver file with one domain; `off` defines it shut off (test:runstate 5), else it runs. */
function driverXml(d: { name: string; off?: boolean; mac: string; disk: string }): string {
  return `<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>${d.name}</name>
    <uuid>${UUID.toUpperCase()}</uuid>
    <memory unit='GiB'>2</memory>
    <vcpu>3</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    ${d.off ? '<test:runstate>5</test:runstate>' : ''}
    <devices>
      <disk type='file' device='disk'><source file='${d.disk}'/><target dev='vda'/></disk>
      <disk type='file' device='cdrom'><source file='/isos/install.iso'/><target dev='hdc'/></disk>
      <disk type='network' device='disk'>
        <source protocol='iscsi' name='iqn.2026-11.test:vol/1'><host name='10.0.0.9' port='3260'/></source>
        <target dev='vdb'/>
      </disk>
      <interface type='network'><mac address='${d.mac}'/><source network='default'/></interface>
    </devices>
  </domain>
</node>
`;
}

describe('discovering libvirt seeds', () => {
  let h: DiscoverHarness;
  let uriA: string;
  let uriB: string;

  beforeAll(async () => {
    await requireTool('virsh', 'libvirt-clients');
    h = await discoverHarness({});
    const a = path.join(h.dir, 'host-a.xml');
    const b = path.join(h.dir, 'host-b.xml');
    await fs.writeFile(a, driverXml({ name: 'web-1', mac: '52:54:00:AA:BB:01', disk: '/srv/images/web-1.img' }));
    await fs.writeFile(
      b,
      driverXml({ name: 'web-1-copy', off: true, mac: '52:54:00:AA:BB:02', disk: '/srv/images/copy.img' }),
    );
    uriA = `test://${a}`;
    uriB = `test://${b}`;
  });
  afterAll(async () => h?.cleanup());

  it('reports one domain with one UUID on two hypervisors as two observations, each named by its URI', async () => {
    const out = await h.run({
      seeds: [
        { kind: 'libvirt', address: uriA },
        { kind: 'libvirt', address: uriB },
      ],
    });
    const common = { kind: 'libvirt', facts: { cpus: 3, memoryMiB: 2048 } };
    expect(out.machines).toEqual([
      {
        ...common,
        seed: 0,
        name: 'web-1',
        identifiers: { uuid: UUID, domainUuid: UUID, macs: ['52:54:00:aa:bb:01'], hypervisor: uriA },
        facts: {
          ...common.facts,
          power: 'on',
          disks: ['/srv/images/web-1.img', 'iscsi://10.0.0.9:3260/iqn.2026-11.test:vol/1'],
        },
        settings: { uri: uriA, domain: 'web-1' },
      },
      {
        ...common,
        seed: 1,
        name: 'web-1-copy',
        identifiers: { uuid: UUID, domainUuid: UUID, macs: ['52:54:00:aa:bb:02'], hypervisor: uriB },
        facts: {
          ...common.facts,
          power: 'off',
          disks: ['/srv/images/copy.img', 'iscsi://10.0.0.9:3260/iqn.2026-11.test:vol/1'],
        },
        settings: { uri: uriB, domain: 'web-1-copy' },
      },
    ]);
    expect(out.seeds.map((s) => [s.machines, s.error])).toEqual([
      [1, undefined],
      [1, undefined],
    ]);
    console.log(`libvirt seed seconds: ${out.seeds.map((s) => s.seconds).join(', ')}`);
  });

  it('says which connection failed, and what to check, for a URI that leads nowhere', async () => {
    const gone = `test://${path.join(h.dir, 'no-such-host.xml')}`;
    const out = await h.run({
      seeds: [
        { kind: 'libvirt', address: gone },
        { kind: 'libvirt', address: 'not a uri' },
      ],
    });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]!.error).toMatchObject({
      code: 'libvirt_failed',
      message: expect.stringMatching(
        new RegExp(
          `^virsh list --all --uuid on ${gone} failed: .*failed to connect to the hypervisor.*Check the seed's URI`,
        ),
      ),
    });
    expect(out.seeds[1]!.error).toMatchObject({ code: 'seed_address_invalid' });
  });
});
