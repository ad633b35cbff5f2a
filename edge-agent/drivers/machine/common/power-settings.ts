/** The boot and shutdown settings that BMC and hypervisor machines name alike. */
import { DEFAULT_BOOT_MARKER } from './console-watch';
import type { PowerSettings } from './protocol';
import type { SettingsReader } from './settings-reader';

/**
 * consoleLog (a serial console log on the agent's host) and bootMarker (a regex, default
 * `ENCOMPASS-BOOTED|login:`), bootTimeoutSeconds (300), shutdownGraceSeconds (60), and
 * powerConfirmSeconds (`confirmSeconds`): how long the machine gets to report power on or off.
 */
export function powerSettings(s: SettingsReader, confirmSeconds: number): PowerSettings {
  const file = s.optionalString('consoleLog');
  const marker = s.regex('bootMarker', DEFAULT_BOOT_MARKER);
  const timeoutMs = s.seconds('bootTimeoutSeconds', 300);
  const shutdownGraceMs = s.seconds('shutdownGraceSeconds', 60);
  const confirmMs = s.seconds('powerConfirmSeconds', confirmSeconds);
  return {
    ...(file ? { console: { file, marker, timeoutMs } } : {}),
    confirmOnMs: confirmMs,
    confirmOffMs: confirmMs,
    shutdownGraceMs,
  };
}
