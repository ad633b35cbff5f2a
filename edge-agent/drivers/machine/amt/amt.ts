/**
 * What the driver and its discovery ask an AMT firmware, over WsmanClient: power (read through
 * CIM_ServiceAvailableToElement, whose items are CIM_AssociatedPowerManagementService), power
 * changes (CIM_PowerManagementService.RequestPowerStateChange), the next boot (AMT_BootSettingData,
 * CIM_BootConfigSetting.ChangeBootOrder, CIM_BootService.SetBootConfigRole) and identity
 * (CIM_ComputerSystemPackage, CIM_Chassis, AMT_EthernetPortSettings).
 */
import { AMT, CIM } from '@device-management-toolkit/wsman-messages';
import { normalizeMac, normalizeUuid } from '../common/identity';
import type { PowerReading } from '../common/protocol';
import type { MachineIdentity } from '../interface';
import { AmtRequestError } from './errors';
import { enumerate, type WsmanBody, type WsmanClient } from './wsman';

/** CIM power states AMT uses: 2 on, 8 off (hard), 10 reset (master bus reset), 12 graceful off. */
export const POWER = { on: 2, off: 8, reset: 10, gracefulOff: 12 } as const;

/** What the firmware boots next: PXE, IDE-R (its redirected CD), or the hard drive (an iSCSI boot set in the BIOS boots as one). */
export const BOOT_DEVICES = ['pxe', 'ider', 'hdd', 'none'] as const;
export type AmtBootDevice = (typeof BOOT_DEVICES)[number];

const BOOT_SOURCES = {
  pxe: 'Intel(r) AMT: Force PXE Boot',
  hdd: 'Intel(r) AMT: Force Hard-drive Boot',
} as const;

export class Amt {
  private readonly cim = new CIM.Messages();
  private readonly amt = new AMT.Messages();

  constructor(
    private readonly who: string,
    readonly client: WsmanClient,
  ) {}

  /** 2 is on; sleep (3, 4) and hibernate (7) still hold the disk; the others are off. */
  async power(): Promise<PowerReading> {
    const items = await enumerate(
      this.client,
      this.cim.ServiceAvailableToElement,
      'CIM_AssociatedPowerManagementService',
      'read the power state',
    );
    const state = Number(items[0]?.['PowerState']);
    if (!Number.isInteger(state))
      throw new AmtRequestError(
        this.who,
        this.client.url,
        'read the power state',
        'no CIM_AssociatedPowerManagementService.PowerState',
      );
    return state === 2 ? 'on' : [3, 4, 7].includes(state) ? 'changing' : 'off';
  }

  /** Resolves to the firmware's ReturnValue (0 is done). */
  async requestPower(state: (typeof POWER)[keyof typeof POWER], what: string): Promise<number> {
    const body = await this.client.send(this.cim.PowerManagementService.RequestPowerStateChange(state), what);
    return returnValue(this.who, body, 'RequestPowerStateChange_OUTPUT', what, this.client.url);
  }

  /** Sets the next boot: IDE-R through AMT_BootSettingData, PXE or the hard drive through ChangeBootOrder. */
  async bootNext(device: Exclude<AmtBootDevice, 'none'>): Promise<void> {
    const what = `set the next boot to ${device}`;
    const got = await this.client.send(this.amt.BootSettingData.Get(), what);
    const current = (got['AMT_BootSettingData'] ?? {}) as Record<string, unknown>;
    const ider = device === 'ider';
    const settings = { ...current, UseIDER: ider, IDERBootDevice: ider ? 1 : 0, BIOSPause: false, BIOSSetup: false };
    await this.client.send(this.amt.BootSettingData.Put(settings as never), what);
    const order = await this.client.send(
      this.cim.BootConfigSetting.ChangeBootOrder(ider ? undefined : BOOT_SOURCES[device]),
      what,
    );
    const changed = returnValue(this.who, order, 'ChangeBootOrder_OUTPUT', what, this.client.url);
    if (changed !== 0)
      throw new AmtRequestError(this.who, this.client.url, what, `ChangeBootOrder returned ${changed}`);
    const role = await this.client.send(
      this.cim.BootService.SetBootConfigRole('Intel(r) AMT: Boot Configuration 0', 1),
      what,
    );
    const set = returnValue(this.who, role, 'SetBootConfigRole_OUTPUT', what, this.client.url);
    if (set !== 0) throw new AmtRequestError(this.who, this.client.url, what, `SetBootConfigRole returned ${set}`);
  }

  async identity(): Promise<MachineIdentity & { model?: string; manufacturer?: string }> {
    const what = 'read the identity';
    const pkg = (await this.client.send(this.cim.ComputerSystemPackage.Get(), what))['CIM_ComputerSystemPackage'] as
      | Record<string, unknown>
      | undefined;
    const chassis = (await this.client.send(this.cim.Chassis.Get(), what))['CIM_Chassis'] as
      | Record<string, unknown>
      | undefined;
    const ports = await enumerate(this.client, this.amt.EthernetPortSettings, 'AMT_EthernetPortSettings', what);
    const uuid = normalizeUuid(platformGuid(String(pkg?.['PlatformGUID'] ?? '')));
    const serial = text(chassis?.['SerialNumber']);
    const model = text(chassis?.['Model']);
    const manufacturer = text(chassis?.['Manufacturer']);
    const macs = [
      ...new Set(
        ports
          .map((p) => text(p['MACAddress']))
          .filter((m): m is string => !!m)
          .map(normalizeMac),
      ),
    ];
    return {
      ...(uuid ? { uuid } : {}),
      ...(serial ? { serial } : {}),
      ...(macs.length ? { macs } : {}),
      ...(model ? { model } : {}),
      ...(manufacturer ? { manufacturer } : {}),
    };
  }
}

function text(v: unknown): string | undefined {
  const t = typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';
  return t || undefined;
}

function returnValue(who: string, body: WsmanBody, output: string, what: string, url: string): number {
  const v = Number((body[output] as { ReturnValue?: unknown } | undefined)?.ReturnValue);
  if (!Number.isInteger(v)) throw new AmtRequestError(who, url, what, `the answer has no ${output}.ReturnValue`);
  return v;
}

/**
 * AMT writes PlatformGUID as 32 hex digits with its first three fields little-endian (SMBIOS byte
 * order); the UUID the operating system shows has them swapped back.
 */
export function platformGuid(hex: string): string | undefined {
  const g = hex.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(g)) return undefined;
  const swap = (s: string) => s.match(/../g)!.reverse().join('');
  return `${swap(g.slice(0, 8))}-${swap(g.slice(8, 12))}-${swap(g.slice(12, 16))}-${g.slice(16, 20)}-${g.slice(20)}`;
}
