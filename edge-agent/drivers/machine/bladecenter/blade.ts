/**
 * One blade in its chassis, reached through the AMM: over SNMP (the IBM MIB) or over the AMM's SSH
 * command line. Both answer the same questions, so the driver does not care which wire it is.
 */
import { normalizeMac, normalizeUuid } from '../common/identity';
import type { MachineIdentity, PowerState } from '../interface';
import { ammCommand, type CliTarget, cliField, cliOk, parseCliPower } from './cli';
import { AmmRequestError, BladeNotPresentError } from './errors';
import { BLADE_OIDS, BOOT_DEVICES, type BootDevice, oidOf } from './mib';
import { AmmSnmp, type SnmpTarget, type SnmpValue } from './snmp';

export interface Blade {
  readonly amm: string;
  readonly slot: number;
  power(): Promise<PowerState>;
  powerOn(): Promise<void>;
  /** Asks the operating system to shut down; the reason when this wire cannot. */
  softOff(): Promise<string | undefined>;
  forceOff(): Promise<void>;
  /** Puts `device` first in the blade's boot order. */
  bootFirst(device: Exclude<BootDevice, 'none'>): Promise<void>;
  identity(): Promise<MachineIdentity & { model?: string }>;
}

/** What the VPD of a blade says, normalized: the fields a chassis does not fill are left out. */
export function vpdIdentity(values: { serial?: SnmpValue; type?: SnmpValue; macs: SnmpValue[] }) {
  const text = (v: SnmpValue) =>
    typeof v === 'string' && v.trim() && !/^(not available|n\/a)$/i.test(v.trim()) ? v.trim() : undefined;
  const serial = text(values.serial);
  const model = text(values.type);
  const macs = values.macs
    .map(text)
    .filter((m): m is string => !!m)
    .map(normalizeMac)
    .filter((m) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) && m !== '00:00:00:00:00:00');
  return { ...(serial ? { serial } : {}), ...(model ? { model } : {}), ...(macs.length ? { macs } : {}) };
}

export class SnmpBlade implements Blade {
  private readonly snmp: AmmSnmp;
  readonly amm: string;

  constructor(
    private readonly machineId: string,
    target: SnmpTarget,
    readonly slot: number,
  ) {
    this.snmp = new AmmSnmp(machineId, target);
    this.amm = this.snmp.amm;
  }

  /** Power as bladePowerState reports it, after checking bladeExists: an empty slot is not "off". */
  async power(): Promise<PowerState> {
    const [exists, state] = await this.snmp.get(
      [oidOf(BLADE_OIDS.bladeExists, this.slot), oidOf(BLADE_OIDS.bladePowerState, this.slot)],
      'read the blade power state',
    );
    if (exists !== 1) throw new BladeNotPresentError(this.machineId, this.amm, this.slot);
    if (typeof state !== 'number')
      throw new AmmRequestError(
        this.machineId,
        this.amm,
        'read the blade power state',
        'no bladePowerState for the slot',
      );
    // 3 (standby) and 4 (hibernate) hold no running operating system.
    return state === 1 ? 'on' : 'off';
  }

  powerOn(): Promise<void> {
    return this.snmp.setInteger(oidOf(BLADE_OIDS.powerOnOffBlade, this.slot), 1, 'power the blade on');
  }

  async softOff(): Promise<string | undefined> {
    return "the AMM's SNMP interface offers no clean shutdown";
  }

  forceOff(): Promise<void> {
    return this.snmp.setInteger(oidOf(BLADE_OIDS.powerOnOffBlade, this.slot), 0, 'power the blade off');
  }

  bootFirst(device: Exclude<BootDevice, 'none'>): Promise<void> {
    return this.snmp.setInteger(
      oidOf(BLADE_OIDS.bootSequence[0], this.slot),
      BOOT_DEVICES[device],
      `set the blade's first boot device to ${device}`,
    );
  }

  async identity() {
    const [serial, type, ...macs] = await this.snmp.get(
      [BLADE_OIDS.serial, BLADE_OIDS.machineType, ...BLADE_OIDS.macs].map((c) => oidOf(c, this.slot)),
      'read the blade VPD',
    );
    return vpdIdentity({ serial, type, macs });
  }
}

export class CliBlade implements Blade {
  readonly amm: string;
  private readonly target: string;

  constructor(
    private readonly machineId: string,
    private readonly cli: CliTarget,
    readonly slot: number,
  ) {
    this.amm = `${cli.host}:${cli.port}`;
    this.target = `system:blade[${slot}]`;
  }

  async power(): Promise<PowerState> {
    const out = await this.run(`power -state -T ${this.target}`);
    const power = parseCliPower(out);
    if (!power) this.refuse('read the blade power state', out);
    return power!;
  }

  async powerOn(): Promise<void> {
    await this.act('-on', 'power the blade on');
  }

  async softOff(): Promise<string | undefined> {
    await this.act('-softoff', 'shut the blade down');
    return undefined;
  }

  async forceOff(): Promise<void> {
    await this.act('-off', 'power the blade off');
  }

  async bootFirst(device: Exclude<BootDevice, 'none'>): Promise<void> {
    const out = await this.run(`bootseq ${device} -T ${this.target}`);
    if (!cliOk(out)) this.refuse(`set the blade's first boot device to ${device}`, out);
  }

  async identity() {
    const out = await this.run(`info -T ${this.target}`);
    const uuid = normalizeUuid(cliField(out, 'UUID'));
    const macs = [1, 2, 3, 4].map((n) => cliField(out, `MAC Address ${n}`));
    return {
      ...(uuid ? { uuid } : {}),
      ...vpdIdentity({ serial: cliField(out, 'Mach serial number'), type: cliField(out, 'Mach type/model'), macs }),
    };
  }

  private async act(flag: string, what: string): Promise<void> {
    const out = await this.run(`power ${flag} -T ${this.target}`);
    if (!cliOk(out)) this.refuse(what, out);
  }

  private run(command: string): Promise<string> {
    return ammCommand(this.machineId, this.cli, command);
  }

  private refuse(what: string, out: string): never {
    const said = out.trim().replace(/\s+/g, ' ').slice(0, 300) || 'no output';
    if (/no blade|not present|invalid target/i.test(said))
      throw new BladeNotPresentError(this.machineId, this.amm, this.slot);
    throw new AmmRequestError(this.machineId, this.amm, what, `the CLI answered "${said}"`);
  }
}
