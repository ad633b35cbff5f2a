/**
 * A physical blade managed through its BMC over IPMI (ipmitool lanplus).
 *
 * settings: host, port (623), user, cipherSuite (3), timeoutSeconds and retries (ipmitool -N/-R),
 *   bootDevice ('disk' | 'none'), consoleLog (a serial console log on this host) and bootMarker
 *   (regex, default `ENCOMPASS-BOOTED|login:`), bootTimeoutSeconds (300), shutdownGraceSeconds (60),
 *   powerConfirmSeconds (30).
 * credentials: password.
 *
 * The blade reaches its disk over the fabric (storage let its initiator in), so attach only records
 * the disk in `<stateDir>/ipmi-<id>.json`; the BMC is the truth about power.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk } from '../../disk';
import { DEFAULT_BOOT_MARKER, markConsole, waitForMarker } from '../common/console-watch';
import { normalizeUuid } from '../common/identity';
import { MachineRecordStore, requireDiskFile } from '../common/machine-record';
import { type MachineWithCredentials, SettingsReader } from '../common/settings-reader';
import { BootFailedError, NoDiskError, PowerNotConfirmedError } from '../errors';
import type {
  DiskRef,
  IdentityCapable,
  MachineDriver,
  MachineIdentity,
  PowerOnOutcome,
  PowerState,
} from '../interface';
import { IPMI_POWER_HINT, IPMI_SETTINGS, IpmiCommandError } from './errors';
import { ipmiConnection, ipmitool, parseFruSerial, parseGuid, parsePowerStatus } from './ipmitool';

export interface IpmiDriverOptions {
  stateDir: string;
  /** The ipmitool binary; `ipmitool` from PATH by default. */
  ipmitool?: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

export class IpmiMachineDriver implements MachineDriver, IdentityCapable {
  readonly kind = 'ipmi';
  readonly records: MachineRecordStore;
  private readonly binary: string;
  private readonly log: (line: string) => void;

  constructor(opts: IpmiDriverOptions) {
    this.records = new MachineRecordStore(opts.stateDir, 'ipmi');
    this.binary = opts.ipmitool ?? 'ipmitool';
    this.log = opts.log ?? ((line) => console.log(`[ipmi] ${line}`));
  }

  attach(machine: MachineWithCredentials, disk: DiskRef): Promise<void> {
    return this.records.attachDisk(machine, disk);
  }

  detach(machine: MachineWithCredentials): Promise<void> {
    return this.records.detachDisk(machine, async () => (await this.power(machine)) === 'on');
  }

  powerOn(machine: MachineWithCredentials): Promise<PowerOnOutcome> {
    return this.records.exclusive(machine, async () => {
      const opts = ipmiOptions(machine);
      const record = await this.records.read(machine);
      if ((await this.power(machine)) === 'on') return { power: 'on', booted: true, bootCount: record.bootCount };
      if (!record.disk) throw new NoDiskError(machine.id);
      await requireDiskFile(machine.id, record.disk);
      if (opts.bootDevice === 'disk') await this.setBootDisk(machine);
      const since = opts.consoleLog ? await markConsole(opts.consoleLog) : undefined;

      await this.run(machine, ['chassis', 'power', 'on']);
      await this.waitForPower(machine, 'on', opts.powerConfirmMs);
      if (opts.consoleLog && since) {
        const outcome = await waitForMarker({
          file: opts.consoleLog,
          since,
          marker: opts.bootMarker,
          timeoutMs: opts.bootTimeoutMs,
          stillOn: async () => (await this.power(machine)) === 'on',
        });
        if (!outcome.found) {
          // Left off, like any failed boot, so the lifecycle can detach and roll back.
          await this.forceOff(machine, opts.powerConfirmMs);
          throw new BootFailedError(machine.id, describeDisk(record.disk), outcome.reason);
        }
      }
      const bootCount = record.bootCount + 1;
      await this.records.write(machine, { ...record, bootCount, lastBootAt: new Date().toISOString() });
      return { power: 'on', booted: true, bootCount };
    });
  }

  powerOff(machine: MachineWithCredentials): Promise<{ power: PowerState }> {
    return this.records.exclusive(machine, async () => {
      const opts = ipmiOptions(machine);
      if ((await this.power(machine)) === 'off') return { power: 'off' };
      try {
        await this.run(machine, ['chassis', 'power', 'soft']);
        if (await this.reachesPower(machine, 'off', opts.shutdownGraceMs)) return { power: 'off' };
        this.log(`machine ${machine.id}: no clean shutdown within ${opts.shutdownGraceMs / 1000} s; forcing power off`);
      } catch (err) {
        if (!(err instanceof IpmiCommandError)) throw err;
        this.log(`machine ${machine.id}: the BMC refused a soft shutdown (${err.stderr}); forcing power off`);
      }
      await this.forceOff(machine, opts.powerConfirmMs);
      return { power: 'off' };
    });
  }

  async status(machine: MachineWithCredentials): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const [power, { disk, bootCount }] = await Promise.all([this.power(machine), this.records.read(machine)]);
    return disk ? { power, disk, bootCount } : { power, bootCount };
  }

  /** The BMC's system GUID (`mc guid`) and the FRU board serial (`fru print 0`). */
  async identity(machine: MachineWithCredentials): Promise<MachineIdentity> {
    const guid = await this.run(machine, ['mc', 'guid']);
    const fru = await this.run(machine, ['fru', 'print', '0']);
    const uuid = normalizeUuid(parseGuid(guid.stdout));
    const serial = parseFruSerial(fru.stdout);
    return { ...(uuid ? { uuid } : {}), ...(serial ? { serial } : {}) };
  }

  async power(machine: MachineWithCredentials): Promise<PowerState> {
    const { stdout } = await this.run(machine, ['chassis', 'power', 'status']);
    const power = parsePowerStatus(stdout);
    if (!power)
      throw new IpmiCommandError(
        machine.id,
        'chassis power status',
        String(machine.settings['host']),
        `unexpected answer "${stdout.trim()}"`,
      );
    return power;
  }

  private run(machine: MachineWithCredentials, command: string[]) {
    return ipmitool(this.binary, machine.id, ipmiConnection(machine), command);
  }

  /** Many BMCs (and ipmi_sim) refuse a boot device override; they boot from their configured order. */
  private async setBootDisk(machine: MachineWithCredentials): Promise<void> {
    const refused = (why: string) =>
      this.log(
        `machine ${machine.id}: the BMC refused "chassis bootdev disk" (${why}); booting in its configured order`,
      );
    try {
      // ipmitool exits 0 even when the BMC rejects the boot parameters; only its message says so.
      const { stderr } = await this.run(machine, ['chassis', 'bootdev', 'disk']);
      if (/failed|error/i.test(stderr)) refused(stderr.replace(/\s+/g, ' '));
    } catch (err) {
      if (!(err instanceof IpmiCommandError)) throw err;
      refused(err.stderr);
    }
  }

  private async forceOff(machine: MachineWithCredentials, confirmMs: number): Promise<void> {
    await this.run(machine, ['chassis', 'power', 'off']);
    await this.waitForPower(machine, 'off', confirmMs);
  }

  private async waitForPower(machine: MachineWithCredentials, wanted: PowerState, ms: number): Promise<void> {
    if (!(await this.reachesPower(machine, wanted, ms)))
      throw new PowerNotConfirmedError(machine.id, wanted, ms / 1000, IPMI_POWER_HINT);
  }

  private async reachesPower(machine: MachineWithCredentials, wanted: PowerState, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if ((await this.power(machine)) === wanted) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }
}

function ipmiOptions(machine: MachineWithCredentials) {
  const s = new SettingsReader(machine, IPMI_SETTINGS);
  return {
    bootDevice: s.oneOf('bootDevice', ['disk', 'none'] as const, 'disk'),
    consoleLog: s.optionalString('consoleLog'),
    bootMarker: s.regex('bootMarker', DEFAULT_BOOT_MARKER),
    bootTimeoutMs: s.seconds('bootTimeoutSeconds', 300),
    shutdownGraceMs: s.seconds('shutdownGraceSeconds', 60),
    powerConfirmMs: s.seconds('powerConfirmSeconds', 30),
  };
}
