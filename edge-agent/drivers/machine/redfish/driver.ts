/**
 * A physical machine managed through its BMC's Redfish service.
 *
 * settings: endpoint (https://bmc or http://…), systemId (else the only system, or the one matching
 *   the machine's identity), bootTarget ('Hdd' | 'UefiTarget' | 'None' to leave the boot order alone),
 *   uefiTargetPath (with 'UefiTarget'), consoleLog and bootMarker (as the IPMI driver),
 *   bootTimeoutSeconds (300), shutdownGraceSeconds (60), powerConfirmSeconds (60), requestTimeoutSeconds (30).
 * credentials: username, password (HTTP Basic).
 *
 * As for an IPMI blade, the disk is reached over the fabric: attach records it in
 * `<stateDir>/redfish-<id>.json` and the BMC is the truth about power.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk } from '../../disk';
import { DEFAULT_BOOT_MARKER, markConsole, waitForMarker } from '../common/console-watch';
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
import { RedfishClient, redfishConnection } from './client';
import { REDFISH_POWER_HINT, REDFISH_SETTINGS, RedfishRequestError } from './errors';
import { allowsReset, findSystemPath, powerOf, type RedfishSystem, resetTarget, systemIdentity } from './system';

export interface RedfishDriverOptions {
  stateDir: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

interface SystemLink {
  client: RedfishClient;
  path: string;
}

export class RedfishMachineDriver implements MachineDriver, IdentityCapable {
  readonly kind = 'redfish';
  readonly records: MachineRecordStore;
  private readonly log: (line: string) => void;

  constructor(opts: RedfishDriverOptions) {
    this.records = new MachineRecordStore(opts.stateDir, 'redfish');
    this.log = opts.log ?? ((line) => console.log(`[redfish] ${line}`));
  }

  attach(machine: MachineWithCredentials, disk: DiskRef): Promise<void> {
    return this.records.attachDisk(machine, disk);
  }

  detach(machine: MachineWithCredentials): Promise<void> {
    return this.records.detachDisk(
      machine,
      async () => (await this.power(machine.id, await this.locate(machine))) === 'on',
    );
  }

  powerOn(machine: MachineWithCredentials): Promise<PowerOnOutcome> {
    return this.records.exclusive(machine, async () => {
      const opts = redfishOptions(machine);
      const record = await this.records.read(machine);
      const s = await this.locate(machine);
      const { body: system, etag } = await s.client.get<RedfishSystem>(s.path);
      if (powerFrom(machine.id, s, system) === 'on') return { power: 'on', booted: true, bootCount: record.bootCount };
      if (!record.disk) throw new NoDiskError(machine.id);
      await requireDiskFile(machine.id, record.disk);
      if (opts.bootTarget !== 'None') await this.overrideBoot(machine, s, system, opts, etag);
      const since = opts.consoleLog ? await markConsole(opts.consoleLog) : undefined;

      await s.client.post(resetTarget(s.path, system), { ResetType: 'On' });
      await this.waitForPower(machine, s, 'on', opts.powerConfirmMs);
      if (opts.consoleLog && since) {
        const outcome = await waitForMarker({
          file: opts.consoleLog,
          since,
          marker: opts.bootMarker,
          timeoutMs: opts.bootTimeoutMs,
          stillOn: async () => (await this.power(machine.id, s)) === 'on',
        });
        if (!outcome.found) {
          // Left off, like any failed boot, so the lifecycle can detach and roll back.
          await this.forceOff(machine, s, system, opts.powerConfirmMs);
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
      const opts = redfishOptions(machine);
      const s = await this.locate(machine);
      const { body: system } = await s.client.get<RedfishSystem>(s.path);
      if (powerFrom(machine.id, s, system) === 'off') return { power: 'off' };
      if (allowsReset(system, 'GracefulShutdown')) {
        await s.client.post(resetTarget(s.path, system), { ResetType: 'GracefulShutdown' });
        if (await this.reachesPower(s, 'off', opts.shutdownGraceMs)) return { power: 'off' };
        this.log(`machine ${machine.id}: no clean shutdown within ${opts.shutdownGraceMs / 1000} s; forcing power off`);
      } else {
        this.log(`machine ${machine.id}: the BMC offers no GracefulShutdown; forcing power off`);
      }
      await this.forceOff(machine, s, system, opts.powerConfirmMs);
      return { power: 'off' };
    });
  }

  async status(machine: MachineWithCredentials): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const [power, { disk, bootCount }] = await Promise.all([
      this.locate(machine).then((s) => this.power(machine.id, s)),
      this.records.read(machine),
    ]);
    return disk ? { power, disk, bootCount } : { power, bootCount };
  }

  /** UUID and SerialNumber of the system, and the MACs of its EthernetInterfaces. */
  async identity(machine: MachineWithCredentials): Promise<MachineIdentity> {
    const s = await this.locate(machine);
    const { body: system } = await s.client.get<RedfishSystem>(s.path);
    return systemIdentity(s.client, system);
  }

  private async locate(machine: MachineWithCredentials): Promise<SystemLink> {
    const c = redfishConnection(machine);
    const client = new RedfishClient(machine.id, c);
    const systemId = new SettingsReader(machine, REDFISH_SETTINGS).optionalString('systemId');
    return { client, path: await findSystemPath(client, machine, c.origin, systemId) };
  }

  private async power(machineId: string, s: SystemLink): Promise<PowerState> {
    const { body } = await s.client.get<RedfishSystem>(s.path);
    return powerFrom(machineId, s, body);
  }

  /** Boot the attached disk once; a BMC that does not offer the target boots in its configured order. */
  private async overrideBoot(
    machine: MachineWithCredentials,
    s: SystemLink,
    system: RedfishSystem,
    opts: Options,
    etag?: string,
  ): Promise<void> {
    const allowed = system.Boot?.['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (allowed && !allowed.includes(opts.bootTarget)) {
      this.log(
        `machine ${machine.id}: the BMC offers no boot override to ${opts.bootTarget} (only ${allowed.join(', ')}); booting in its configured order`,
      );
      return;
    }
    const boot: Record<string, string> = {
      BootSourceOverrideTarget: opts.bootTarget,
      BootSourceOverrideEnabled: 'Once',
    };
    if (opts.bootTarget === 'UefiTarget') {
      if (!opts.uefiTargetPath)
        throw new SettingsReader(machine, REDFISH_SETTINGS).fail(
          'settings.uefiTargetPath',
          "is needed with bootTarget 'UefiTarget'",
        );
      boot['UefiTargetBootSourceOverride'] = opts.uefiTargetPath;
    }
    try {
      await s.client.patch(s.path, { Boot: boot }, etag);
    } catch (err) {
      if (!(err instanceof RedfishRequestError) || ![400, 405, 501].includes(err.status)) throw err;
      this.log(
        `machine ${machine.id}: the BMC refused the boot override (${err.detail}); booting in its configured order`,
      );
    }
  }

  private async forceOff(
    machine: MachineWithCredentials,
    s: SystemLink,
    system: RedfishSystem,
    confirmMs: number,
  ): Promise<void> {
    await s.client.post(resetTarget(s.path, system), { ResetType: 'ForceOff' });
    await this.waitForPower(machine, s, 'off', confirmMs);
  }

  private async waitForPower(
    machine: MachineWithCredentials,
    s: SystemLink,
    wanted: PowerState,
    ms: number,
  ): Promise<void> {
    if (!(await this.reachesPower(s, wanted, ms)))
      throw new PowerNotConfirmedError(machine.id, wanted, ms / 1000, REDFISH_POWER_HINT);
  }

  private async reachesPower(s: SystemLink, wanted: PowerState, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const { body } = await s.client.get<RedfishSystem>(s.path);
      // PoweringOn is not yet on, and PoweringOff not yet off.
      if (wanted === 'on' ? body.PowerState === 'On' : body.PowerState === 'Off') return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }
}

function redfishOptions(machine: MachineWithCredentials) {
  const s = new SettingsReader(machine, REDFISH_SETTINGS);
  return {
    bootTarget: s.string('bootTarget', 'Hdd'),
    uefiTargetPath: s.optionalString('uefiTargetPath'),
    consoleLog: s.optionalString('consoleLog'),
    bootMarker: s.regex('bootMarker', DEFAULT_BOOT_MARKER),
    bootTimeoutMs: s.seconds('bootTimeoutSeconds', 300),
    shutdownGraceMs: s.seconds('shutdownGraceSeconds', 60),
    powerConfirmMs: s.seconds('powerConfirmSeconds', 60),
  };
}

type Options = ReturnType<typeof redfishOptions>;

function powerFrom(machineId: string, s: SystemLink, system: RedfishSystem): PowerState {
  const power = powerOf(system);
  if (!power) throw new RedfishRequestError(machineId, 'GET', s.path, 200, 'the system reports no PowerState');
  return power;
}
