/**
 * A physical machine managed through Intel AMT (Active Management Technology) over WS-Management.
 *
 * settings: host, port (16992; 16993 with tls), tls (false), requestTimeoutSeconds (30), bootDevice
 *   ('pxe' | 'ider' | 'hdd' set as the next boot before power on; 'none' (default) keeps the BIOS
 *   order, in which an iSCSI boot set in the BIOS stays), and the power settings (consoleLog,
 *   bootMarker, …, powerConfirmSeconds (60): see common/power-settings).
 *   With tls, the firmware's certificate is always verified (./tls), by one of:
 *   certificateSha256 (the SHA-256 fingerprint of its certificate, hex with or without colons: a
 *   pin, which stands for the identity, so the name is not checked), caCertificate (PEM of the CA
 *   that signed it, or of the self-signed certificate; not a secret), or else the system's CAs;
 *   with a CA the name checked is tlsServerName, else host.
 * credentials: password, and user (admin by default): HTTP Digest.
 *
 * As for a BMC, the disk is reached over the fabric: the harness records it in
 * `<stateDir>/amt-<id>.json`; the firmware is the truth about power.
 */
import { consoleNotes, MachineHarness } from '../common/harness';
import { powerSettings } from '../common/power-settings';
import type { MachineProtocol, PowerReading } from '../common/protocol';
import { SettingsReader } from '../common/settings-reader';
import type { IdentityCapable, MachineIdentity, MachineRef } from '../interface';
import { Amt, type AmtBootDevice, BOOT_DEVICES, POWER } from './amt';
import { AMT_POWER_HINT, AMT_SETTINGS, AmtRequestError } from './errors';
import { amtConnection, WsmanClient } from './wsman';

export interface AmtDriverOptions {
  stateDir: string;
  /** Where notes go (never a credential). */
  log?: (line: string) => void;
}

interface AmtLink {
  machine: MachineRef;
  amt: Amt;
  bootDevice: AmtBootDevice;
}

const reader = (machine: MachineRef) => new SettingsReader(machine, AMT_SETTINGS);

export function amtOf(machine: MachineRef): Amt {
  return new Amt(machine.id, new WsmanClient(machine.id, amtConnection(machine)));
}

class AmtProtocol implements MachineProtocol<AmtLink> {
  readonly kind = 'amt';
  readonly powerHint = AMT_POWER_HINT;

  async open(machine: MachineRef): Promise<AmtLink> {
    const bootDevice = reader(machine).oneOf('bootDevice', BOOT_DEVICES, 'none');
    return { machine, amt: amtOf(machine), bootDevice };
  }

  settings(machine: MachineRef) {
    return powerSettings(reader(machine), 60);
  }

  power({ amt }: AmtLink): Promise<PowerReading> {
    return amt.power();
  }

  async powerOn({ machine, amt, bootDevice }: AmtLink): Promise<void> {
    if (bootDevice !== 'none') await amt.bootNext(bootDevice);
    await this.request(machine, amt, POWER.on, 'power on');
  }

  /** A graceful off (12) needs AMT 11 or later and its OS agent; older firmware refuses it. */
  async softOff({ amt }: AmtLink): Promise<string | undefined> {
    const rv = await amt.requestPower(POWER.gracefulOff, 'shut down');
    return rv === 0 ? undefined : `the AMT firmware refused a graceful shutdown (ReturnValue ${rv})`;
  }

  async forceOff({ machine, amt }: AmtLink): Promise<void> {
    await this.request(machine, amt, POWER.off, 'power off');
  }

  private async request(
    machine: MachineRef,
    amt: Amt,
    state: (typeof POWER)[keyof typeof POWER],
    what: string,
  ): Promise<void> {
    const rv = await amt.requestPower(state, what);
    if (rv !== 0) throw new AmtRequestError(machine.id, amt.client.url, what, `RequestPowerStateChange returned ${rv}`);
  }
}

export class AmtMachineDriver extends MachineHarness<AmtLink> implements IdentityCapable {
  constructor(opts: AmtDriverOptions) {
    const log = opts.log ?? consoleNotes('amt');
    super(new AmtProtocol(), { stateDir: opts.stateDir, log });
  }

  /** PlatformGUID (as the OS shows it), the chassis serial, and the MACs of the AMT Ethernet ports. */
  async identity(machine: MachineRef): Promise<MachineIdentity> {
    const { model: _m, manufacturer: _f, ...identity } = await amtOf(machine).identity();
    return identity;
  }
}
