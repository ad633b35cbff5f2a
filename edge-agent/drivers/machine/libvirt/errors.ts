/** Typed failures of the libvirt machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad libvirt setting's message tells the operator to fix. */
export const LIBVIRT_SETTINGS = "the machine's libvirt settings (uri, domain, memoryMiB, vcpus, kernel, consoleLog, …)";

/** What a bad Xen setting's message tells the operator to fix. */
export const XEN_SETTINGS =
  "the machine's Xen settings (uri, domain, xenMode, kernel or bootloader, loader, bridge, memoryMiB, …)";

/** The domain is watched, not asked: it did not reach the power state. */
export const LIBVIRT_POWER_HINT: PowerHint = {
  who: 'Domain of machine',
  verb: 'reach',
  check: "Check /var/log/libvirt/qemu/ for the domain's log, then try again.",
};

export const XEN_POWER_HINT: PowerHint = {
  who: 'Xen domain of machine',
  verb: 'reach',
  check: "Check /var/log/libvirt/libxl/ and /var/log/xen/ for the domain's logs, then try again.",
};

export class VirshMissingError extends AgentError {
  constructor(options?: { cause?: unknown }) {
    super(
      'virsh_missing',
      'virsh is not installed on the agent host, so no virtual machine can be managed. Install it (apt-get install libvirt-clients) and try again.',
      options,
    );
  }
}

export class VirshCommandError extends AgentError {
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

export class DomainConflictError extends AgentError {
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

function hintFor(stderr: string): string {
  if (/Permission denied/i.test(stderr)) {
    return 'The qemu user (libvirt-qemu) must be able to read the disk and search every directory above it (chmod o+x).';
  }
  if (/Failed to connect|No such file or directory.*sock|libvirt-sock/i.test(stderr)) {
    return 'Start libvirtd (and virtlogd) on this host, or fix settings.uri.';
  }
  return 'Check the domain log under /var/log/libvirt/qemu/ and the libvirtd log.';
}
