/** Typed failures of the libvirt machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { MachineError } from '../errors';

export class LibvirtError extends MachineError {}

export class LibvirtSettingsError extends LibvirtError {
  constructor(
    readonly machineId: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(
      'invalid_settings',
      `Machine ${machineId}: ${key} ${problem}. Fix the machine's libvirt settings (uri, domain, memoryMiB, vcpus, kernel, consoleLog, …) and try again.`,
    );
  }
}

export class VirshMissingError extends LibvirtError {
  constructor(options?: { cause?: unknown }) {
    super(
      'virsh_missing',
      'virsh is not installed on the agent host, so no virtual machine can be managed. Install it (apt-get install libvirt-clients) and try again.',
      options,
    );
  }
}

export class VirshCommandError extends LibvirtError {
  constructor(
    readonly machineId: string,
    readonly command: string,
    readonly uri: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      'virsh_failed',
      `virsh ${command} on ${uri} for machine ${machineId} failed: ${stderr || 'no output'}. ${hintFor(stderr)}`,
      options,
    );
  }
}

export class DomainConflictError extends LibvirtError {
  constructor(
    readonly machineId: string,
    readonly domain: string,
    readonly uri: string,
  ) {
    super(
      'domain_not_managed',
      `Domain ${domain} on ${uri} exists but was not defined for machine ${machineId}, so it is left alone. Set settings.domain to another name, or undefine that domain if it is unused.`,
    );
  }
}

export class PowerNotConfirmedError extends LibvirtError {
  constructor(
    readonly machineId: string,
    readonly wanted: 'on' | 'off',
    readonly waitedSeconds: number,
  ) {
    super(
      'power_not_confirmed',
      `Domain of machine ${machineId} did not reach power ${wanted} within ${waitedSeconds} s. Check /var/log/libvirt/qemu/ for the domain's log, then try again.`,
    );
  }
}

function hintFor(stderr: string): string {
  if (/Permission denied/i.test(stderr)) {
    return 'The qemu user (libvirt-qemu) must be able to read the disk and search every directory above it (chmod o+x).';
  }
  if (/Failed to connect|No such file or directory.*sock|libvirt-sock/i.test(stderr)) {
    return 'Start libvirtd (and virtlogd) on this host, or fix settings.uri.';
  }
  return 'Check the domain log under /var/log/libvirt/qemu/ and the libvirtd log.';
}
