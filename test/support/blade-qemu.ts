/**
 * A simulated blade that really boots: blade-qemu.sh, run by ipmi_sim on power on, boots qemu from the
 * iSCSI LUN named in the blade's boot configuration, with the BMC's chassis control wired to the guest.
 * The configuration is what a real blade keeps in its iSCSI boot firmware (portal, target, LUN, its
 * initiator name); the agent never writes it, a blade's owner does.
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The script to give ipmi_sim as `startcmd`, followed by the configuration file's path. */
export const BLADE_QEMU_SCRIPT = fileURLToPath(new URL('./blade-qemu.sh', import.meta.url));

export interface BladeBoot {
  /** `host:port` of the iSCSI portal. */
  portal: string;
  /** The target's IQN. */
  target: string;
  lun: number;
  /** The name the blade logs in with: the machine's identity.initiatorName. */
  initiatorName: string;
  kernel: string;
  initrd: string;
  append: string;
  memoryMiB?: number;
  /** The serial console log (appended to), the one the machine's settings.consoleLog names. */
  consoleLog: string;
  /** ipmi_sim's VM port (IpmiSimBlade.vmPort). */
  bmcPort: number;
  /** Where qemu writes its PID. */
  pidFile: string;
  uuid?: string;
  serial?: string;
}

/** The startcmd line for a blade whose boot configuration is (or will be) at `configFile`. */
export function bladeStartCommand(configFile: string): string {
  return `${BLADE_QEMU_SCRIPT} ${configFile}`;
}

/** Writes the configuration blade-qemu.sh reads at the next power on. */
export async function writeBladeBoot(configFile: string, b: BladeBoot): Promise<void> {
  const vars: Record<string, string | number | undefined> = {
    BLADE_PORTAL: b.portal,
    BLADE_TARGET: b.target,
    BLADE_LUN: b.lun,
    BLADE_INITIATOR: b.initiatorName,
    BLADE_KERNEL: b.kernel,
    BLADE_INITRD: b.initrd,
    BLADE_APPEND: b.append,
    BLADE_MEMORY_MIB: b.memoryMiB,
    BLADE_CONSOLE: b.consoleLog,
    BLADE_BMC_PORT: b.bmcPort,
    BLADE_PIDFILE: b.pidFile,
    BLADE_UUID: b.uuid,
    BLADE_SERIAL: b.serial,
  };
  const lines = Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${shellQuote(String(v))}`);
  // Written whole and renamed, so a power on never reads half a configuration.
  await fs.writeFile(`${configFile}.tmp`, `${lines.join('\n')}\n`);
  await fs.rename(`${configFile}.tmp`, configFile);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The PID in a blade's pid file while that process still is the blade's qemu (its command line names the file). */
export async function bladeQemuPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return undefined;
  const argv = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return argv.split('\0').includes(pidFile) ? pid : undefined;
}
