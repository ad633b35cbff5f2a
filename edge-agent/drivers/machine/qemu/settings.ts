/** Reads a qemu machine's `settings` into checked values with defaults. */

import { DEFAULT_BOOT_MARKER } from '../common/console-watch';
import type { MachineRef } from '../interface';
import { QemuConfigError } from './errors';

/** Kernel command line for a kernel given in settings: serial console, root on the first virtio disk. */
export const DEFAULT_APPEND = 'console=ttyS0 root=/dev/vda rw init=/init panic=-1';
export const DEFAULT_POWER_OFF_GRACE_SECONDS = 60;

export interface QemuSettings {
  /** Boot this kernel directly; without it the disk's own boot loader starts. */
  kernel?: string;
  initrd?: string;
  /** Only used with `kernel`. */
  append: string;
  memoryMiB: number;
  cpus: number;
  /** Seen on the serial console once the operating system is up. */
  bootMarker: RegExp;
  bootTimeoutSeconds: number;
  /** How long a guest gets to shut down after the ACPI power button before qemu is stopped. */
  powerOffGraceSeconds: number;
}

export function qemuSettings(machine: MachineRef): QemuSettings {
  const s = machine.settings;
  const bad = (key: string, problem: string) => new QemuConfigError(machine.id, `settings.${key}`, problem);

  const text = (key: string): string | undefined => {
    const value = s[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') throw bad(key, 'must be a non-empty string');
    return value;
  };
  const number = (key: string, fallback: number, min: number, max: number): number => {
    const value = s[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw bad(key, `must be a number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return value;
  };
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const value = number(key, fallback, min, max);
    if (!Number.isInteger(value)) throw bad(key, `must be a whole number (got ${value})`);
    return value;
  };

  const kernel = text('kernel');
  const initrd = text('initrd');
  if (initrd && !kernel) throw bad('initrd', 'needs settings.kernel as well');
  const markerSource = text('bootMarker') ?? DEFAULT_BOOT_MARKER;
  let bootMarker: RegExp;
  try {
    bootMarker = new RegExp(markerSource);
  } catch (err) {
    throw bad('bootMarker', `is not a valid regular expression (${(err as Error).message})`);
  }
  return {
    ...(kernel ? { kernel } : {}),
    ...(initrd ? { initrd } : {}),
    append: text('append') ?? DEFAULT_APPEND,
    memoryMiB: integer('memoryMiB', 512, 64, 1024 * 1024),
    cpus: integer('cpus', 1, 1, 256),
    bootMarker,
    bootTimeoutSeconds: number('bootTimeoutSeconds', 120, 1, 24 * 3600),
    powerOffGraceSeconds: number('powerOffGraceSeconds', DEFAULT_POWER_OFF_GRACE_SECONDS, 0, 3600),
  };
}
