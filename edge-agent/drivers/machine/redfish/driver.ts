/**
 * A physical machine managed through its BMC's Redfish service.
 *
 * settings: endpoint (https://bmc or http://…), systemId (else the only system, or the one matching
 *   the machine's identity), bootTarget ('Hdd' | 'UefiTarget' | 'None' to leave the boot order alone),
 *   uefiTargetPath (with 'UefiTarget'), requestTimeoutSeconds (30), and the power settings
 *   (consoleLog, bootMarker, …, powerConfirmSeconds (60): see common/power-settings).
 * credentials: username, password (HTTP Basic).
 *
 * As for an IPMI blade, the disk is reached over the fabric: the harness records it in
 * `<stateDir>/redfish-<id>.json` and the BMC is the truth about power.
 */
import { consoleNotes, MachineHarness } from '../common/harness';
import { powerSettings } from '../common/power-settings';
import type { MachineProtocol, PowerReading } from '../common/protocol';
import { SettingsReader } from '../common/settings-reader';
import type { IdentityCapable, MachineIdentity, MachineRef } from '../interface';
import { RedfishClient, type RedfishResponse, redfishConnection } from './client';
import { REDFISH_POWER_HINT, REDFISH_SETTINGS, RedfishRequestError } from './errors';
import { allowsReset, findSystemPath, type RedfishSystem, readingOf, resetTarget, systemIdentity } from './system';

export interface RedfishDriverOptions {
  stateDir: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

/** The machine's ComputerSystem on its BMC. */
interface SystemLink {
  machine: MachineRef;
  client: RedfishClient;
  path: string;
}

const reader = (machine: MachineRef) => new SettingsReader(machine, REDFISH_SETTINGS);

class RedfishProtocol implements MachineProtocol<SystemLink> {
  readonly kind = 'redfish';
  readonly powerHint = REDFISH_POWER_HINT;

  constructor(private readonly log: (line: string) => void) {}

  async open(machine: MachineRef): Promise<SystemLink> {
    const c = redfishConnection(machine);
    const client = new RedfishClient(machine.id, c);
    const path = await findSystemPath(client, machine, c.origin, reader(machine).optionalString('systemId'));
    return { machine, client, path };
  }

  settings(machine: MachineRef) {
    return powerSettings(reader(machine), 60);
  }

  async power(s: SystemLink): Promise<PowerReading> {
    const { body } = await this.system(s);
    const reading = readingOf(body);
    if (!reading) throw new RedfishRequestError(s.machine.id, 'GET', s.path, 200, 'the system reports no PowerState');
    return reading;
  }

  async powerOn(s: SystemLink): Promise<void> {
    const { body: system, etag } = await this.system(s);
    await this.overrideBoot(s, system, etag);
    await s.client.post(resetTarget(s.path, system), { ResetType: 'On' });
  }

  async softOff(s: SystemLink): Promise<string | undefined> {
    const { body: system } = await this.system(s);
    if (!allowsReset(system, 'GracefulShutdown')) return 'the BMC offers no GracefulShutdown';
    await s.client.post(resetTarget(s.path, system), { ResetType: 'GracefulShutdown' });
    return undefined;
  }

  async forceOff(s: SystemLink): Promise<void> {
    const { body: system } = await this.system(s);
    await s.client.post(resetTarget(s.path, system), { ResetType: 'ForceOff' });
  }

  private system(s: SystemLink): Promise<RedfishResponse<RedfishSystem>> {
    return s.client.get<RedfishSystem>(s.path);
  }

  /** Boot the attached disk once; a BMC that does not offer the target boots in its configured order. */
  private async overrideBoot(s: SystemLink, system: RedfishSystem, etag?: string): Promise<void> {
    const settings = reader(s.machine);
    const target = settings.string('bootTarget', 'Hdd');
    if (target === 'None') return;
    const uefiTargetPath = settings.optionalString('uefiTargetPath');
    const allowed = system.Boot?.['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (allowed && !allowed.includes(target)) {
      this.log(
        `machine ${s.machine.id}: the BMC offers no boot override to ${target} (only ${allowed.join(', ')}); booting in its configured order`,
      );
      return;
    }
    const boot: Record<string, string> = { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: 'Once' };
    if (target === 'UefiTarget') {
      if (!uefiTargetPath) throw settings.fail('settings.uefiTargetPath', "is needed with bootTarget 'UefiTarget'");
      boot['UefiTargetBootSourceOverride'] = uefiTargetPath;
    }
    try {
      await s.client.patch(s.path, { Boot: boot }, etag);
    } catch (err) {
      if (!(err instanceof RedfishRequestError) || ![400, 405, 501].includes(err.status)) throw err;
      this.log(
        `machine ${s.machine.id}: the BMC refused the boot override (${err.detail}); booting in its configured order`,
      );
    }
  }
}

export class RedfishMachineDriver extends MachineHarness<SystemLink> implements IdentityCapable {
  constructor(opts: RedfishDriverOptions) {
    const log = opts.log ?? consoleNotes('redfish');
    super(new RedfishProtocol(log), { stateDir: opts.stateDir, log });
  }

  /** UUID and SerialNumber of the system, and the MACs of its EthernetInterfaces. */
  async identity(machine: MachineRef): Promise<MachineIdentity> {
    const s = await this.protocol.open(machine);
    const { body: system } = await s.client.get<RedfishSystem>(s.path);
    return systemIdentity(s.client, system);
  }
}
