/**
 * bench:discover, libvirt: the discover task on one `test:///<file>` seed whose driver XML defines
 * DOMAINS domains, beside the virsh commands the probe runs (edge-agent/discovery/libvirt.ts), by
 * hand, one after the other: `list --all --uuid`, `capabilities` and (the test driver's capabilities
 * name no host UUID) `sysinfo`, then `dumpxml` and `domstate` of each domain. The test driver has no
 * daemon: every virsh process parses the whole file again, so each call costs more the more domains
 * it holds, which a daemon (qemu:///system) does not.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { discoverHarness } from '../edge-agent/discovery/context';
import { alternate, type Figure, type Owed } from './discover-common';

export const DOMAINS = 200;
const exec = promisify(execFile);

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const uuidOf = (i: number) => `6695eb01-f6a4-4304-89aa-${hex(i, 12)}`;

/** Every fourth domain is defined shut off (test:runstate 5), the others run. */
function driverXml(): string {
  const domains = Array.from(
    { length: DOMAINS },
    (_, i) => `  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>vm-${String(i).padStart(3, '0')}</name>
    <uuid>${uuidOf(i)}</uuid>
    <memory unit='GiB'>2</memory>
    <vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    ${i % 4 === 3 ? '<test:runstate>5</test:runstate>' : ''}
    <devices>
      <disk type='file' device='disk'><source file='/srv/images/vm-${i}.img'/><target dev='vda'/></disk>
      <interface type='network'><mac address='52:54:00:01:${hex(i >> 8, 2)}:${hex(i & 255, 2)}'/><source network='default'/></interface>
    </devices>
  </domain>`,
  );
  return `<node>\n${domains.join('\n')}\n</node>\n`;
}

/** What the probe runs, as it runs it (virsh -q -c URI …). */
async function bare(uri: string): Promise<number> {
  const virsh = async (...args: string[]) =>
    (await exec('virsh', ['-q', '-c', uri, ...args], { maxBuffer: 16 << 20 })).stdout;
  const uuids = (await virsh('list', '--all', '--uuid'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!/<host>\s*<uuid>/.test(await virsh('capabilities'))) await virsh('sysinfo');
  for (const id of uuids) {
    await virsh('dumpxml', '--', id);
    await virsh('domstate', '--', id);
  }
  return uuids.length;
}

export async function measureLibvirt(runs: number, owed: Owed): Promise<Figure[]> {
  const h = await discoverHarness({});
  const remove = owed.add(() => h.cleanup());
  try {
    const file = join(h.dir, 'host.xml');
    await writeFile(file, driverXml());
    const uri = `test://${file}`;
    const seeds = [{ kind: 'libvirt', address: uri }];
    const ours: number[] = [];
    const peer: number[] = [];
    console.log(`libvirt: one test:/// seed with ${DOMAINS} domains (${2 * DOMAINS + 3} virsh calls per run)...`);
    await alternate(
      runs,
      async () => {
        const t0 = performance.now();
        const out = await h.run({ seeds });
        ours.push((performance.now() - t0) / 1000);
        const uuids = new Set(out.machines.map((m) => m.identifiers.uuid));
        const off = out.machines.filter((m) => m.facts.power === 'off').length;
        if (out.seeds[0]!.error || uuids.size !== DOMAINS || off !== DOMAINS / 4)
          throw new Error(
            `discover should report ${DOMAINS} domains, ${DOMAINS / 4} off: ${uuids.size}, ${off} off, ${JSON.stringify(out.seeds[0]!.error)}`,
          );
      },
      async () => {
        const t0 = performance.now();
        const n = await bare(uri);
        peer.push((performance.now() - t0) / 1000);
        if (n !== DOMAINS) throw new Error(`virsh list should name ${DOMAINS} domains, it named ${n}`);
      },
      (r) =>
        console.log(
          `libvirt run ${r}/${runs}: discover ${ours.at(-1)!.toFixed(2)} s, bare virsh ${peer.at(-1)!.toFixed(2)} s`,
        ),
    );
    return [
      { key: 'libvirt', what: `libvirt discover, one seed of ${DOMAINS} domains`, unit: 's', runs: ours },
      {
        key: 'libvirt-bare',
        what: `libvirt peer: the same ${2 * DOMAINS + 3} virsh calls, sequential`,
        unit: 's',
        runs: peer,
      },
    ];
  } finally {
    await remove();
  }
}
