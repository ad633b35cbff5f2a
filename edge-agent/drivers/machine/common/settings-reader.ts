/**
 * Typed reads of a machine's free-form `settings`, failing with MachineSettingsError so the message
 * names the key, what is wrong with it, and the driver's settings to fix.
 */
import { MachineSettingsError } from '../errors';
import type { MachineRef } from '../interface';

export class SettingsReader {
  /** `fix` names the driver's settings, e.g. `the machine's IPMI settings (host, port, …)`. */
  constructor(
    private readonly machine: MachineRef,
    private readonly fix: string,
  ) {}

  /** The error for a setting that cannot be used, for checks beyond the typed reads. */
  fail(key: string, problem: string): MachineSettingsError {
    return new MachineSettingsError(this.machine.id, key, problem, this.fix);
  }

  optionalString(key: string): string | undefined {
    const v = this.machine.settings[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw this.fail(`settings.${key}`, `must be a string, not ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.optionalString(key) ?? fallback;
    if (v === undefined) throw this.fail(`settings.${key}`, 'is missing');
    return v;
  }

  /** A number within [min, max]; numeric strings are accepted, as settings often come from forms. */
  number(key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.machine.settings[key];
    if (raw === undefined || raw === null || raw === '') return fallback;
    const v = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw this.fail(`settings.${key}`, `must be a number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
    }
    return v;
  }

  /** Milliseconds from a `…Seconds` setting. */
  seconds(key: string, fallbackSeconds: number, maxSeconds = 24 * 3600): number {
    return this.number(key, fallbackSeconds, 0, maxSeconds) * 1000;
  }

  regex(key: string, fallback: string): RegExp {
    const source = this.string(key, fallback);
    try {
      return new RegExp(source);
    } catch (err) {
      throw this.fail(`settings.${key}`, `is not a valid regular expression (${(err as Error).message})`);
    }
  }

  /** One of `allowed`, or the fallback. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(key, fallback);
    if (!(allowed as readonly string[]).includes(v))
      throw this.fail(`settings.${key}`, `must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
    return v as T;
  }
}

/** A credential's value: tasks/machines.ts resolved the machine's `secret://` references before the driver's call. */
export function credential(machine: MachineRef, key: string): string | undefined {
  const v = machine.credentials?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}
