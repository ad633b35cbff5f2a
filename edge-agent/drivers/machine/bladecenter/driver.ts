/**
 * A blade in an IBM BladeCenter chassis, driven through the chassis' Advanced Management Module (AMM).
 * A blade is addressed as chassis + slot.
 *
 * settings: amm (the AMM's address), slot (1-14), via ('snmp' (default) | 'ssh'), snmpPort (161),
 *   snmpVersion ('1' | '2c' | '3'; '3' when the credentials name a user and no community),
 *   authProtocol ('sha' | 'md5') and privProtocol ('aes' | 'des') for SNMPv3, sshPort (22) and
 *   sshHostKey (the AMM's `SHA256:…` fingerprint, needed for ssh), timeoutSeconds (5 for SNMP, 10
 *   for SSH) and retries (1), bootDevice ('iscsi' | 'net' | 'hd0' put first in the boot sequence
 *   before power on; 'none' (default) keeps the configured order), and the power settings
 *   (consoleLog, bootMarker, …, powerConfirmSeconds (60): see common/power-settings).
 * credentials: community (SNMPv1/v2c), or user + password (+ privPassword) for SNMPv3 and the CLI.
 *
 * The blade reaches its disk over the fabric, so the harness records the disk in
 * `<stateDir>/bladecenter-<id>.json`; the AMM is the truth about power.
 */
import { consoleNotes, MachineHarness } from '../common/harness';
import { powerSettings } from '../common/power-settings';
import type { MachineProtocol, PowerReading } from '../common/protocol';
import { SettingsReader } from '../common/settings-reader';
import type { IdentityCapable, MachineIdentity, MachineRef } from '../interface';
import { type Blade, CliBlade, SnmpBlade } from './blade';
import { cliTarget } from './cli';
import { BLADECENTER_POWER_HINT, BLADECENTER_SETTINGS } from './errors';
import { type BootDevice, MAX_SLOTS } from './mib';
import { snmpTarget } from './snmp';

export interface BladeCenterDriverOptions {
  stateDir: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

const reader = (machine: MachineRef) => new SettingsReader(machine, BLADECENTER_SETTINGS);

/** The blade a machine's settings name, on the wire they name. */
export function bladeOf(machine: MachineRef): Blade {
  const s = reader(machine);
  const slot = s.number('slot', 0, 1, MAX_SLOTS);
  if (!slot) throw s.fail('settings.slot', `is missing: give the blade's slot in its chassis (1-${MAX_SLOTS})`);
  const via = s.oneOf('via', ['snmp', 'ssh'], 'snmp');
  return via === 'ssh'
    ? new CliBlade(machine.id, cliTarget(machine), slot)
    : new SnmpBlade(machine.id, snmpTarget(machine), slot);
}

/** A blade, with the boot device its settings put first at power on. */
interface BladeLink {
  blade: Blade;
  bootDevice: BootDevice;
}

class BladeCenterProtocol implements MachineProtocol<BladeLink> {
  readonly kind = 'bladecenter';
  readonly powerHint = BLADECENTER_POWER_HINT;

  async open(machine: MachineRef): Promise<BladeLink> {
    const bootDevice = reader(machine).oneOf<BootDevice>('bootDevice', ['iscsi', 'net', 'hd0', 'none'], 'none');
    return { blade: bladeOf(machine), bootDevice };
  }

  settings(machine: MachineRef) {
    return powerSettings(reader(machine), 60);
  }

  power({ blade }: BladeLink): Promise<PowerReading> {
    return blade.power();
  }

  async powerOn({ blade, bootDevice }: BladeLink): Promise<void> {
    if (bootDevice !== 'none') await blade.bootFirst(bootDevice);
    await blade.powerOn();
  }

  softOff({ blade }: BladeLink): Promise<string | undefined> {
    return blade.softOff();
  }

  forceOff({ blade }: BladeLink): Promise<void> {
    return blade.forceOff();
  }
}

export class BladeCenterMachineDriver extends MachineHarness<BladeLink> implements IdentityCapable {
  constructor(opts: BladeCenterDriverOptions) {
    const log = opts.log ?? consoleNotes('bladecenter');
    super(new BladeCenterProtocol(), { stateDir: opts.stateDir, log });
  }

  /** The blade's VPD: serial number and MACs (and, over the CLI, its UUID). */
  async identity(machine: MachineRef): Promise<MachineIdentity> {
    const { model: _model, ...identity } = await bladeOf(machine).identity();
    return identity;
  }
}
