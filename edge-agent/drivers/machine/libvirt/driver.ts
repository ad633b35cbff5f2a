/**
 * A virtual machine under libvirt, driven through virsh.
 *
 * settings: uri (qemu:///system), domain (encompass-<id>), and the domain's shape (see domain-spec.ts),
 *   and the power settings (consoleLog, bootMarker, …, powerConfirmSeconds (30): see common/power-settings).
 * identity: uuid becomes the domain's UUID, macs its NICs, initiatorName the iSCSI initiator.
 *
 * The domain holds the disk: attach defines the domain with it (recorded in its metadata too),
 * detach undefines it. With consoleLog, a boot counts once the marker shows on the serial console;
 * without, once the domain runs. Boot counts live in `<stateDir>/libvirt-<id>.json`, since they
 * outlive the domain.
 *
 * XenMachineDriver (kind `xen`) is the same driver on a Xen host through libvirt's libxl driver:
 * uri xen:///system by default, and the domain in the shape Xen needs (domain-spec.ts, domain-xml.ts).
 * settings.virshShell (true) runs every virsh command of the URI in one long-lived virsh, which
 * libvirt's test:/// driver needs to keep its domains between calls.
 */
import { consoleNotes, MachineHarness } from '../common/harness';
import { powerSettings } from '../common/power-settings';
import type { DiskSlot, MachineProtocol, PowerReading, PowerSettings } from '../common/protocol';
import type { PowerHint } from '../errors';
import type { DiskRef, MachineRef } from '../interface';
import { domainName, domainSpec, type Flavour, libvirtSettings } from './domain-spec';
import { diskFromXml, domainXml, managedMachineId } from './domain-xml';
import { DomainConflictError, LIBVIRT_POWER_HINT, XEN_POWER_HINT } from './errors';
import { Virsh } from './virsh';

export interface LibvirtDriverOptions {
  stateDir: string;
  /** The virsh binary; `virsh` from PATH by default. */
  virsh?: string;
  log?: (line: string) => void;
}

/** The machine's domain on its libvirt connection. */
interface Target {
  machine: MachineRef;
  virsh: Virsh;
  domain: string;
}

class LibvirtProtocol implements MachineProtocol<Target> {
  readonly powerHint: PowerHint;

  constructor(
    readonly kind: Flavour,
    private readonly binary: string,
    /** Where `virsh define` reads its XML from. */
    private readonly scratchDir: string,
  ) {
    this.powerHint = kind === 'xen' ? XEN_POWER_HINT : LIBVIRT_POWER_HINT;
  }

  async open(machine: MachineRef): Promise<Target> {
    const uri = libvirtSettings(machine, this.kind).string(
      'uri',
      this.kind === 'xen' ? 'xen:///system' : 'qemu:///system',
    );
    const shell = machine.settings['virshShell'] === true;
    return { machine, virsh: new Virsh(this.binary, uri, machine.id, { shell }), domain: domainName(machine) };
  }

  settings(machine: MachineRef): PowerSettings {
    const { console, ...rest } = powerSettings(libvirtSettings(machine, this.kind), 30);
    if (!console) return rest;
    // libvirt empties the console file at start; `virsh start` returns once the domain runs, so
    // the marker is the only confirmation to wait for.
    const { confirmOnMs: _confirmed, ...off } = rest;
    return { ...off, console: { ...console, fresh: true } };
  }

  power(t: Target): Promise<PowerReading> {
    return t.virsh.power(t.domain);
  }

  async powerOn(t: Target): Promise<void> {
    await t.virsh.run(['start', '--', t.domain]);
  }

  /** An ACPI shutdown (the domain keeps <acpi/>), so the guest can flush its disk. */
  async softOff(t: Target): Promise<undefined> {
    await t.virsh.tolerant(['shutdown', '--', t.domain]);
    return undefined;
  }

  forceOff(t: Target): Promise<void> {
    return t.virsh.tolerant(['destroy', '--', t.domain]);
  }

  shutdownNote(machine: MachineRef, t: Target, seconds: number): string {
    return `machine ${machine.id}: domain ${t.domain} did not shut down within ${seconds} s; destroying it`;
  }

  readonly disk: DiskSlot<Target> = {
    /** The disk in the machine's domain; a domain of that name not defined for this machine is refused. */
    attached: async (t) => {
      const xml = await t.virsh.dumpxml(t.domain);
      if (xml === undefined) return undefined;
      if (managedMachineId(xml) !== t.machine.id) throw new DomainConflictError(t.machine.id, t.domain, t.virsh.uri);
      return diskFromXml(xml);
    },
    attach: (t, disk: DiskRef) =>
      t.virsh.define(domainXml(domainSpec(t.machine, t.domain, this.kind), disk), this.scratchDir),
    detach: async (t) => {
      await t.virsh.run(['undefine', '--', t.domain]);
    },
  };
}

export class LibvirtMachineDriver extends MachineHarness<Target> {
  constructor(opts: LibvirtDriverOptions, flavour: Flavour = 'libvirt') {
    super(new LibvirtProtocol(flavour, opts.virsh ?? 'virsh', opts.stateDir), {
      stateDir: opts.stateDir,
      log: opts.log ?? consoleNotes(flavour),
    });
  }

  /** The domain name a machine gets unless settings.domain names one. */
  domainName(machine: MachineRef): string {
    return domainName(machine);
  }
}

/** A Xen domain through libvirt's libxl driver: the libvirt driver in its Xen flavour. */
export class XenMachineDriver extends LibvirtMachineDriver {
  constructor(opts: LibvirtDriverOptions) {
    super(opts, 'xen');
  }
}
