/**
 * The part of IBM's BladeCenter AMM MIB (under 1.3.6.1.4.1.2.3.51.2) the driver uses, as xCAT's blade
 * plugin reads it. Every column is indexed by the blade's slot (1-14): `<column>.<slot>`.
 */
const MIB = '1.3.6.1.4.1.2.3.51.2';

export const BLADE_OIDS = {
  /** 1 when a blade sits in the slot, 0 when the slot is empty. */
  bladeExists: `${MIB}.22.1.5.1.1.3`,
  /** 0 off, 1 on, 3 standby, 4 hibernate. */
  bladePowerState: `${MIB}.22.1.5.1.1.4`,
  /** Set 1 to power on, 0 to power off (at once: the AMM cuts the power). */
  powerOnOffBlade: `${MIB}.22.1.6.1.1.7`,
  /** Set 1 to restart the blade. */
  restartBlade: `${MIB}.22.1.6.1.1.8`,
  /** VPD: serial number and machine type (`8853AC1`-style type/model). */
  serial: `${MIB}.2.21.4.1.1.6`,
  machineType: `${MIB}.2.21.4.1.1.7`,
  /** VPD: the blade's on-board NICs (bladeMACAddress1Vpd … 4Vpd). */
  macs: [`${MIB}.2.21.4.2.1.2`, `${MIB}.2.21.4.2.1.3`, `${MIB}.2.21.4.2.1.4`, `${MIB}.2.21.4.2.1.5`],
  /** bootSequence1 … 4: the blade's boot order, one device number each. */
  bootSequence: [`${MIB}.22.1.3.1.7`, `${MIB}.22.1.3.1.8`, `${MIB}.22.1.3.1.9`, `${MIB}.22.1.3.1.10`],
} as const;

/** The largest chassis (BladeCenter H) has 14 slots; an E has 14 too, an S 6. */
export const MAX_SLOTS = 14;

/** Boot devices by the number the AMM stores for them (xCAT's table). */
export const BOOT_DEVICES = { none: 0, hd0: 3, net: 7, iscsi: 8 } as const;
export type BootDevice = keyof typeof BOOT_DEVICES;

export const oidOf = (column: string, slot: number) => `${column}.${slot}`;
