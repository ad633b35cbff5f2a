/** Typed failures of the vSphere machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad vSphere setting's message tells the operator to fix. */
export const VSPHERE_SETTINGS = "the machine's vSphere settings (endpoint, vm, template, taskTimeoutSeconds, …)";

/** The VM's power state is what vCenter reports after each task. */
export const VSPHERE_POWER_HINT: PowerHint = {
  who: 'vCenter for machine',
  check: "Check the VM's tasks and events in vCenter, then try again.",
};

export class VsphereCredentialsMissingError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly missing: string[],
  ) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no ${missing.join(' or ')} for vCenter. Set the machine's credentials (write-only: username, password) and try again.`,
    );
  }
}

export class VsphereUnreachableError extends AgentError {
  constructor(
    readonly who: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as Error | undefined)?.cause ?? options?.cause;
    super(
      'vsphere_unreachable',
      `vCenter at ${url} did not answer for ${who} (${(why as Error | undefined)?.message ?? 'no reason given'}). Check settings.endpoint, the network path to vCenter or the ESX host and its certificate (NODE_EXTRA_CA_CERTS for a private CA).`,
      options,
    );
  }
}

export class VsphereLoginError extends AgentError {
  constructor(
    readonly who: string,
    readonly url: string,
    readonly username: string,
  ) {
    super(
      'vsphere_login_refused',
      `vCenter at ${url} refused the login of ${username} for ${who} (InvalidLogin). Check the username and password in the credentials, and that the account is not locked.`,
    );
  }
}

/** A vim25 SOAP fault: `fault` is its type (NotAuthenticated, InvalidState, FileNotFound, …). */
export class VsphereFaultError extends AgentError {
  constructor(
    readonly who: string,
    readonly method: string,
    readonly fault: string,
    readonly detail: string,
  ) {
    super(
      'vsphere_fault',
      `vCenter answered ${method} for ${who} with the fault ${fault}: ${detail || 'no detail'}. ${hintFor(fault)}`,
    );
  }
}

/** A task (PowerOnVM_Task, ReconfigVM_Task, …) that ended in error or did not end in time. */
export class VsphereTaskError extends AgentError {
  constructor(
    readonly who: string,
    readonly method: string,
    readonly fault: string,
    readonly detail: string,
  ) {
    super(
      'vsphere_task_failed',
      `The vCenter task ${method} for ${who} failed (${fault}): ${detail || 'no detail'}. ${hintFor(fault)}`,
    );
  }
}

/** An answer that is not vim25 SOAP (a proxy's page, a wrong path). */
export class VsphereProtocolError extends AgentError {
  constructor(
    readonly who: string,
    readonly url: string,
    readonly detail: string,
  ) {
    super(
      'vsphere_bad_answer',
      `${url} did not answer as vim25 SOAP for ${who} (${detail}). Check settings.endpoint: it names vCenter or the ESX host, https://host or its /sdk URL.`,
    );
  }
}

export class VmNotFoundError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly lookedFor: string,
  ) {
    super(
      'vm_not_found',
      `vCenter has no VM ${lookedFor} for machine ${machineId}. Set settings.vm to the VM's name (or settings.template, to create it from a template at attach), or the machine's identity.uuid to its BIOS UUID.`,
    );
  }
}

export class VmAmbiguousError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly vmName: string,
    readonly refs: string[],
  ) {
    super(
      'vm_ambiguous',
      `vCenter has ${refs.length} VMs named ${vmName} (${refs.join(', ')}), so machine ${machineId} cannot tell which is its. Rename all but one, or set identity.uuid to its BIOS UUID.`,
    );
  }
}

export class VmNotManagedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly vm: string,
    readonly owner: string,
  ) {
    super(
      'vm_not_managed',
      `VM ${vm} carries the disk of machine ${owner}, not ${machineId}, so it is left alone. Point settings.vm of machine ${machineId} at another VM.`,
    );
  }
}

/** A disk the VM cannot take: no datastore path, a format ESX does not read, an iSCSI LUN. */
export class VsphereDiskError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly diskPath: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super('vsphere_disk_unusable', `Machine ${machineId} cannot attach ${diskPath}: ${problem}. ${fix}`);
  }
}

function hintFor(fault: string): string {
  if (fault === 'NotAuthenticated' || fault === 'NoPermission')
    return 'Check that the account may power, reconfigure and clone VMs (VirtualMachine.Interact, .Config, .Provisioning).';
  if (fault === 'FileNotFound')
    return "Check the repository's settings.datastore: the clone must be on a datastore the VM's host mounts, at that path.";
  if (fault === 'InvalidPowerState' || fault === 'InvalidState' || fault === 'TaskInProgress')
    return 'Another client changed the VM meanwhile: check its tasks in vCenter and try again.';
  if (fault === 'timeout') return 'Raise settings.taskTimeoutSeconds, or check the task in vCenter.';
  return "Check the VM's tasks and events in vCenter.";
}
