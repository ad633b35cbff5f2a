/**
 * A virtual machine under libvirt, driven through virsh.
 *
 * settings: uri (qemu:///system), domain (encompass-<id>), domainType ('qemu' | 'kvm'), memoryMiB
 *   (512), vcpus (1), arch (x86_64), machineType (pc), emulator, kernel/initrd/cmdline (direct
 *   kernel boot), diskBus ('virtio' | 'sata' | 'scsi'), network (a libvirt network; else user-mode),
 *   consoleLog (serial console file) and bootMarker (regex, default `ENCOMPASS-BOOTED|login:`),
 *   bootTimeoutSeconds (300), shutdownGraceSeconds (60), powerConfirmSeconds (30).
 * identity: uuid becomes the domain's UUID, macs its NICs, initiatorName the iSCSI initiator.
 *
 * attach defines the domain with the disk (recorded in its metadata too); detach undefines it. With
 * consoleLog, a boot counts once the marker shows on the serial console; without, once it runs.
 * Boot counts live in `<stateDir>/libvirt-<id>.json`, since they outlive the domain.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk, sameDisk } from '../../disk';
import { DEFAULT_BOOT_MARKER, markConsole, waitForMarker } from '../common/console-watch';
import { MachineRecordStore, requireDiskFile } from '../common/machine-record';
import { SettingsReader } from '../common/settings-reader';
import { AlreadyAttachedError, BootFailedError, NoDiskError, PoweredOnError, PowerNotConfirmedError } from '../errors';
import type { DiskRef, MachineDriver, MachineRef, PowerOnOutcome, PowerState } from '../interface';
import { type DomainSpec, diskFromXml, domainXml, managedMachineId } from './domain-xml';
import { DomainConflictError, LIBVIRT_POWER_HINT, LIBVIRT_SETTINGS } from './errors';
import { Virsh } from './virsh';

export interface LibvirtDriverOptions {
  stateDir: string;
  /** The virsh binary; `virsh` from PATH by default. */
  virsh?: string;
  log?: (line: string) => void;
}

interface Target {
  virsh: Virsh;
  domain: string;
}

export class LibvirtMachineDriver implements MachineDriver {
  readonly kind = 'libvirt';
  readonly records: MachineRecordStore;
  private readonly binary: string;
  private readonly log: (line: string) => void;

  constructor(opts: LibvirtDriverOptions) {
    this.records = new MachineRecordStore(opts.stateDir, 'libvirt');
    this.binary = opts.virsh ?? 'virsh';
    this.log = opts.log ?? ((line) => console.log(`[libvirt] ${line}`));
  }

  /** The domain name a machine gets unless settings.domain names one. */
  domainName(machine: MachineRef): string {
    const given = reader(machine).optionalString('domain');
    if (given) return given;
    if (/^[A-Za-z0-9_.-]{1,64}$/.test(machine.id)) return `encompass-${machine.id}`;
    const hash = createHash('sha256').update(machine.id).digest('hex').slice(0, 8);
    return `encompass-${machine.id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${hash}`;
  }

  attach(machine: MachineRef, disk: DiskRef): Promise<void> {
    return this.records.exclusive(machine, async () => {
      const t = this.target(machine);
      const spec = domainSpec(machine, t.domain);
      const attached = await this.attachedDisk(machine, t);
      if (attached) {
        if (sameDisk(attached, disk)) return;
        throw new AlreadyAttachedError(machine.id, describeDisk(attached), describeDisk(disk));
      }
      await requireDiskFile(machine.id, disk);
      await t.virsh.define(domainXml(spec, disk), this.records.dir);
    });
  }

  detach(machine: MachineRef): Promise<void> {
    return this.records.exclusive(machine, async () => {
      const t = this.target(machine);
      if (!(await this.attachedDisk(machine, t))) return;
      if ((await t.virsh.power(t.domain)) === 'on') throw new PoweredOnError(machine.id, 'detached');
      await t.virsh.run(['undefine', '--', t.domain]);
    });
  }

  powerOn(machine: MachineRef): Promise<PowerOnOutcome> {
    return this.records.exclusive(machine, async () => {
      const t = this.target(machine);
      const opts = powerOptions(machine);
      const record = await this.records.read(machine);
      if ((await t.virsh.power(t.domain)) === 'on') return { power: 'on', booted: true, bootCount: record.bootCount };
      const disk = await this.attachedDisk(machine, t);
      if (!disk) throw new NoDiskError(machine.id);
      await requireDiskFile(machine.id, disk);

      await t.virsh.run(['start', '--', t.domain]);
      if (opts.consoleLog) {
        // libvirt truncated the console file at start: everything in it is this boot's.
        const since = { ...(await markConsole(opts.consoleLog)), size: 0 };
        const stillOn = async () => (await t.virsh.power(t.domain)) === 'on';
        const outcome = await waitForMarker({
          file: opts.consoleLog,
          since,
          marker: opts.bootMarker,
          timeoutMs: opts.bootTimeoutMs,
          stillOn,
        });
        if (!outcome.found) {
          // Left off, like any failed boot, so the lifecycle can detach and roll back.
          await this.forceOff(machine, t, opts.powerConfirmMs);
          throw new BootFailedError(machine.id, describeDisk(disk), outcome.reason);
        }
      } else if (!(await reaches(t, 'on', opts.powerConfirmMs))) {
        throw new PowerNotConfirmedError(machine.id, 'on', opts.powerConfirmMs / 1000, LIBVIRT_POWER_HINT);
      }
      const bootCount = record.bootCount + 1;
      await this.records.write(machine, { ...record, bootCount, lastBootAt: new Date().toISOString() });
      return { power: 'on', booted: true, bootCount };
    });
  }

  powerOff(machine: MachineRef): Promise<{ power: PowerState }> {
    return this.records.exclusive(machine, async () => {
      const t = this.target(machine);
      const opts = powerOptions(machine);
      if ((await t.virsh.power(t.domain)) === 'off') return { power: 'off' };
      // An ACPI shutdown first (the domain keeps <acpi/>), so the guest can flush its disk.
      await t.virsh.tolerant(['shutdown', '--', t.domain]);
      if (await reaches(t, 'off', opts.shutdownGraceMs)) return { power: 'off' };
      this.log(
        `machine ${machine.id}: domain ${t.domain} did not shut down within ${opts.shutdownGraceMs / 1000} s; destroying it`,
      );
      await this.forceOff(machine, t, opts.powerConfirmMs);
      return { power: 'off' };
    });
  }

  async status(machine: MachineRef): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const t = this.target(machine);
    const [power, disk, { bootCount }] = await Promise.all([
      t.virsh.power(t.domain),
      this.attachedDisk(machine, t),
      this.records.read(machine),
    ]);
    return disk ? { power, disk, bootCount } : { power, bootCount };
  }

  private target(machine: MachineRef): Target {
    const uri = reader(machine).string('uri', 'qemu:///system');
    return { virsh: new Virsh(this.binary, uri, machine.id), domain: this.domainName(machine) };
  }

  /** The disk in the machine's domain; a domain of that name not defined for this machine is refused. */
  private async attachedDisk(machine: MachineRef, t: Target): Promise<DiskRef | undefined> {
    const xml = await t.virsh.dumpxml(t.domain);
    if (xml === undefined) return undefined;
    if (managedMachineId(xml) !== machine.id) throw new DomainConflictError(machine.id, t.domain, t.virsh.uri);
    return diskFromXml(xml);
  }

  private async forceOff(machine: MachineRef, t: Target, confirmMs: number): Promise<void> {
    await t.virsh.tolerant(['destroy', '--', t.domain]);
    if (!(await reaches(t, 'off', confirmMs)))
      throw new PowerNotConfirmedError(machine.id, 'off', confirmMs / 1000, LIBVIRT_POWER_HINT);
  }
}

async function reaches(t: Target, wanted: PowerState, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await t.virsh.power(t.domain)) === wanted) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  }
}

function reader(machine: MachineRef): SettingsReader {
  return new SettingsReader(machine, LIBVIRT_SETTINGS);
}

function powerOptions(machine: MachineRef) {
  const s = reader(machine);
  return {
    consoleLog: s.optionalString('consoleLog'),
    bootMarker: s.regex('bootMarker', DEFAULT_BOOT_MARKER),
    bootTimeoutMs: s.seconds('bootTimeoutSeconds', 300),
    shutdownGraceMs: s.seconds('shutdownGraceSeconds', 60),
    powerConfirmMs: s.seconds('powerConfirmSeconds', 30),
  };
}

function domainSpec(machine: MachineRef, name: string): DomainSpec {
  const s = reader(machine);
  const optional = (key: string) => s.optionalString(key);
  const spec: DomainSpec = {
    name,
    machineId: machine.id,
    domainType: s.oneOf('domainType', ['qemu', 'kvm'] as const, 'qemu'),
    memoryMiB: Math.round(s.number('memoryMiB', 512, 16, 1 << 20)),
    vcpus: Math.round(s.number('vcpus', 1, 1, 256)),
    arch: s.string('arch', 'x86_64'),
    machineType: s.string('machineType', 'pc'),
    diskBus: s.oneOf('diskBus', ['virtio', 'sata', 'scsi'] as const, 'virtio'),
    macs: machine.identity.macs ?? [],
  };
  for (const key of ['emulator', 'kernel', 'initrd', 'cmdline', 'network', 'consoleLog'] as const) {
    const v = optional(key);
    if (v !== undefined) spec[key] = v;
  }
  if (machine.identity.uuid) spec.uuid = machine.identity.uuid;
  if (machine.identity.initiatorName) spec.initiatorName = machine.identity.initiatorName;
  return spec;
}
