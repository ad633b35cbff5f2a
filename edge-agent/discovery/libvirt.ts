/**
 * A `libvirt` seed: one hypervisor connection (a libvirt URI), asked with the driver's virsh
 * wrapper. Reads `list --all --uuid` (every domain, by UUID: names may repeat across connections,
 * UUIDs are what the functions match), each domain's `dumpxml` (name, UUID, vcpu, memory, the MACs of
 * its interfaces, its disks' sources) and `domstate` (as the driver reads it: running, paused or
 * shutting down hold the disk and count as on; shut off and crashed are off).
 *
 * The hypervisor is the host's UUID (`capabilities` <host><uuid>, else `sysinfo` <system> uuid) when
 * the connection gives one, else the URI itself (the test driver, some remote hosts).
 */
import type { MachineObservation } from '../../statemachines/discovery';
import { MAX_OBSERVED } from '../../statemachines/discovery';
import { normalizeMac, normalizeUuid } from '../drivers/machine/common/identity';
import { unescapeXml } from '../drivers/machine/libvirt/domain-xml';
import { VirshCommandError } from '../drivers/machine/libvirt/errors';
import { Virsh } from '../drivers/machine/libvirt/virsh';
import { LibvirtSeedError, SeedAddressError } from './errors';
import type { Observed, SeedAsk } from './seed';

const COMMAND_SECONDS = 60;

export async function askLibvirt(ask: SeedAsk): Promise<Observed> {
  const uri = ask.seed.address.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri))
    throw new SeedAddressError('libvirt', uri, 'a libvirt URI (qemu:///system, qemu+ssh://host/system, test:///file)');
  const virsh = new Virsh('virsh', uri, `seed ${ask.index}`);
  const ms = (ask.seed.timeoutSeconds ?? COMMAND_SECONDS) * 1000;
  try {
    const uuids = (await virsh.run(['list', '--all', '--uuid'], ms))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const hypervisor = (await hostUuid(virsh, ms)) ?? uri;
    const machines: MachineObservation[] = [];
    for (const id of uuids.slice(0, MAX_OBSERVED)) {
      if (ask.signal.aborted) throw ask.signal.reason;
      const xml = await virsh.dumpxml(id);
      // Undefined meanwhile: it is gone, so there is nothing to report.
      if (xml === undefined) continue;
      machines.push(observation(ask.index, uri, hypervisor, domainFacts(xml), await virsh.power(id)));
    }
    return { machines, volumes: [], seen: uuids.length };
  } catch (err) {
    if (err instanceof VirshCommandError) throw new LibvirtSeedError(uri, err.command, err.stderr, { cause: err });
    throw err;
  }
}

function observation(
  seed: number,
  uri: string,
  hypervisor: string,
  d: DomainFacts,
  power: 'on' | 'off',
): MachineObservation {
  return {
    seed,
    kind: 'libvirt',
    ...(d.name ? { name: d.name } : {}),
    identifiers: {
      ...(d.uuid ? { uuid: d.uuid, domainUuid: d.uuid } : {}),
      macs: d.macs,
      hypervisor,
    },
    facts: {
      ...(d.vcpus !== undefined ? { cpus: d.vcpus } : {}),
      ...(d.memoryMiB !== undefined ? { memoryMiB: d.memoryMiB } : {}),
      power,
      disks: d.disks,
    },
    settings: { uri, domain: d.name ?? d.uuid },
  };
}

/** The host's UUID, if the connection tells it; the test driver and some hosts do not. */
async function hostUuid(virsh: Virsh, ms: number): Promise<string | undefined> {
  const read = (args: string[], pattern: RegExp) =>
    virsh.run(args, ms).then(
      (xml) => normalizeUuid(pattern.exec(xml)?.[1]),
      () => undefined,
    );
  return (
    (await read(['capabilities'], /<host>\s*<uuid>([^<]+)<\/uuid>/)) ??
    (await read(['sysinfo'], /<system>[\s\S]*?<entry name=['"]uuid['"]>([^<]+)<\/entry>/))
  );
}

export interface DomainFacts {
  name?: string;
  uuid?: string;
  vcpus?: number;
  memoryMiB?: number;
  macs: string[];
  disks: string[];
}

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 1 << 20,
  mib: 1 << 20,
  gb: 1e9,
  g: 1 << 30,
  gib: 1 << 30,
  tb: 1e12,
  t: 2 ** 40,
  tib: 2 ** 40,
};

/** What discovery reads from `virsh dumpxml`, which libvirt writes in one regular shape. */
export function domainFacts(xml: string): DomainFacts {
  const first = (re: RegExp) => {
    const v = re.exec(xml)?.[1];
    return v === undefined ? undefined : unescapeXml(v.trim());
  };
  const name = first(/<name>([^<]*)<\/name>/);
  const uuid = normalizeUuid(first(/<uuid>([^<]*)<\/uuid>/));
  const vcpu = first(/<vcpu\b[^>]*>(\d+)<\/vcpu>/);
  const memory = /<memory\b([^>]*)>(\d+)<\/memory>/.exec(xml);
  const unit = (memory ? /unit=['"](\w+)['"]/.exec(memory[1]!)?.[1] : undefined)?.toLowerCase() ?? 'kib';
  const bytes = memory ? Number(memory[2]) * (UNIT_BYTES[unit] ?? 1024) : undefined;
  const macs = [...xml.matchAll(/<mac\s+address=['"]([^'"]+)['"]/g)].map((m) => normalizeMac(unescapeXml(m[1]!)));
  const disks: string[] = [];
  for (const [, attrs, body] of xml.matchAll(/<disk\b([^>]*)>([\s\S]*?)<\/disk>/g)) {
    if (/device=['"](cdrom|floppy)['"]/.test(attrs!)) continue;
    const source = diskSource(body!);
    if (source) disks.push(source);
  }
  return {
    ...(name ? { name } : {}),
    ...(uuid ? { uuid } : {}),
    ...(vcpu ? { vcpus: Number(vcpu) } : {}),
    ...(bytes !== undefined ? { memoryMiB: Math.round(bytes / (1 << 20)) } : {}),
    macs: [...new Set(macs)],
    disks,
  };
}

/** A file or block device path, or a network disk as `protocol://host:port/name` (iSCSI: `…/iqn/lun`). */
function diskSource(body: string): string | undefined {
  const tag = /<source\b([^>]*?)\/?>/.exec(body)?.[1];
  if (!tag) return undefined;
  const attr = (n: string) => {
    const v = new RegExp(`\\b${n}=['"]([^'"]*)['"]`).exec(tag)?.[1];
    return v === undefined ? undefined : unescapeXml(v);
  };
  const local = attr('file') ?? attr('dev') ?? attr('dir');
  if (local) return local;
  const [pool, volume] = [attr('pool'), attr('volume')];
  if (pool && volume) return `${pool}/${volume}`;
  const protocol = attr('protocol');
  const name = attr('name');
  if (!protocol || !name) return undefined;
  const host = /<host\b[^>]*\bname=['"]([^'"]+)['"](?:[^>]*\bport=['"](\d+)['"])?/.exec(body);
  const where = host ? `${unescapeXml(host[1]!)}${host[2] ? `:${host[2]}` : ''}` : '';
  return `${protocol}://${where}/${name}`;
}
