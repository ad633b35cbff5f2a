/**
 * A physical blade managed through its BMC over IPMI (ipmitool lanplus).
 *
 * settings: host, port (623), user (else credentials.user), cipherSuite (3), timeoutSeconds and retries (ipmitool -N/-R),
 *   bootDevice ('disk' | 'none'), and the power settings (consoleLog, bootMarker, bootTimeoutSeconds,
 *   shutdownGraceSeconds, powerConfirmSeconds (30): see common/power-settings).
 * credentials: password, and user when the settings name none (a discovered blade's record).
 *
 * The blade reaches its disk over the fabric (storage let its initiator in), so the harness records
 * the disk in `<stateDir>/ipmi-<id>.json`; the BMC is the truth about power.
 */
import { consoleNotes, MachineHarness } from '../common/harness';
import { normalizeUuid } from '../common/identity';
import { powerSettings } from '../common/power-settings';
import type { MachineProtocol, PowerReading } from '../common/protocol';
import { SettingsReader } from '../common/settings-reader';
import type { IdentityCapable, MachineIdentity, MachineRef } from '../interface';
import { IPMI_POWER_HINT, IPMI_SETTINGS, IpmiCommandError } from './errors';
import { type IpmiOutput, ipmiConnection, ipmitool, parseFruSerial, parseGuid, parsePowerStatus } from './ipmitool';

export interface IpmiDriverOptions {
  stateDir: string;
  /** The ipmitool binary; `ipmitool` from PATH by default. */
  ipmitool?: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

/** One blade's BMC, signed in. */
interface Bmc {
  machine: MachineRef;
  run(command: string[]): Promise<IpmiOutput>;
}

class IpmiProtocol implements MachineProtocol<Bmc> {
  readonly kind = 'ipmi';
  readonly powerHint = IPMI_POWER_HINT;

  constructor(
    private readonly binary: string,
    private readonly log: (line: string) => void,
  ) {}

  async open(machine: MachineRef): Promise<Bmc> {
    const connection = ipmiConnection(machine);
    return { machine, run: (command) => ipmitool(this.binary, machine.id, connection, command) };
  }

  settings(machine: MachineRef) {
    return powerSettings(new SettingsReader(machine, IPMI_SETTINGS), 30);
  }

  async power(bmc: Bmc): Promise<PowerReading> {
    const { stdout } = await bmc.run(['chassis', 'power', 'status']);
    const power = parsePowerStatus(stdout);
    if (!power)
      throw new IpmiCommandError(
        bmc.machine.id,
        'chassis power status',
        String(bmc.machine.settings['host']),
        `unexpected answer "${stdout.trim()}"`,
      );
    return power;
  }

  async powerOn(bmc: Bmc): Promise<void> {
    const bootDevice = new SettingsReader(bmc.machine, IPMI_SETTINGS).oneOf('bootDevice', ['disk', 'none'], 'disk');
    if (bootDevice === 'disk') await this.setBootDisk(bmc);
    await bmc.run(['chassis', 'power', 'on']);
  }

  async softOff(bmc: Bmc): Promise<string | undefined> {
    try {
      await bmc.run(['chassis', 'power', 'soft']);
      return undefined;
    } catch (err) {
      if (!(err instanceof IpmiCommandError)) throw err;
      return `the BMC refused a soft shutdown (${err.stderr})`;
    }
  }

  async forceOff(bmc: Bmc): Promise<void> {
    await bmc.run(['chassis', 'power', 'off']);
  }

  /** Many BMCs (and ipmi_sim) refuse a boot device override; they boot from their configured order. */
  private async setBootDisk(bmc: Bmc): Promise<void> {
    const refused = (why: string) =>
      this.log(
        `machine ${bmc.machine.id}: the BMC refused "chassis bootdev disk" (${why}); booting in its configured order`,
      );
    try {
      // ipmitool exits 0 even when the BMC rejects the boot parameters; only its message says so.
      const { stderr } = await bmc.run(['chassis', 'bootdev', 'disk']);
      if (/failed|error/i.test(stderr)) refused(stderr.replace(/\s+/g, ' '));
    } catch (err) {
      if (!(err instanceof IpmiCommandError)) throw err;
      refused(err.stderr);
    }
  }
}

export class IpmiMachineDriver extends MachineHarness<Bmc> implements IdentityCapable {
  constructor(opts: IpmiDriverOptions) {
    const log = opts.log ?? consoleNotes('ipmi');
    super(new IpmiProtocol(opts.ipmitool ?? 'ipmitool', log), { stateDir: opts.stateDir, log });
  }

  /** The BMC's system GUID (`mc guid`) and the FRU board serial (`fru print 0`). */
  async identity(machine: MachineRef): Promise<MachineIdentity> {
    const bmc = await this.protocol.open(machine);
    const guid = await bmc.run(['mc', 'guid']);
    const fru = await bmc.run(['fru', 'print', '0']);
    const uuid = normalizeUuid(parseGuid(guid.stdout));
    const serial = parseFruSerial(fru.stdout);
    return { ...(uuid ? { uuid } : {}), ...(serial ? { serial } : {}) };
  }
}
