/** Typed failures of the iscsi storage driver: AgentErrors with a `code`, like those of every driver. */
import { AgentError } from '../../../errors';

export class IscsiSettingsError extends AgentError {
  constructor(
    readonly repoId: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      'iscsi_settings_invalid',
      `Repository ${repoId} has unusable iscsi settings: ${problem}. ` +
        'Give settings { portal: "HOST:PORT", iqnPrefix: "iqn.YYYY-MM.reversed.domain", controlPort?: integer >= 0, manageTarget?: boolean }.',
      options,
    );
  }
}

export class InitiatorNameRequiredError extends AgentError {
  constructor(
    readonly machine: string,
    options?: { cause?: unknown },
  ) {
    super(
      'initiator_name_required',
      `Machine ${machine} has no iSCSI initiator name, and an iscsi repository lets in initiators by name only. ` +
        'Set identity.initiatorName on the machine (e.g. iqn.2026-11.io.example:host1) and retry.',
      options,
    );
  }
}

export class InitiatorNameInvalidError extends AgentError {
  constructor(
    readonly machine: string,
    readonly initiatorName: string,
    options?: { cause?: unknown },
  ) {
    super(
      'initiator_name_invalid',
      `Machine ${machine} has initiator name ${JSON.stringify(initiatorName)}, which is not an iSCSI name ` +
        '(it is empty, has spaces, is longer than 223 bytes, or looks like an address). ' +
        'Set identity.initiatorName to the name the machine logs in with, e.g. iqn.2026-11.io.example:host1.',
      options,
    );
  }
}

export class LunNeedsRawImageError extends AgentError {
  constructor(
    readonly path: string,
    readonly format: string,
    options?: { cause?: unknown },
  ) {
    super(
      'lun_needs_raw',
      `Image ${path} is ${format}, but a LUN serves the file's bytes as the disk, so only raw images can be exported. ` +
        'Clone it from a raw master, or convert the master to raw (qemu-img convert -O raw) and import that.',
      options,
    );
  }
}

export class TargetConflictError extends AgentError {
  constructor(
    readonly target: string,
    readonly expectedBacking: string,
    readonly actualBacking: string | null,
    options?: { cause?: unknown },
  ) {
    super(
      'target_conflict',
      `Target ${target} already exists but serves ${actualBacking ?? 'no LUN 1'} instead of ${expectedBacking}. ` +
        'Give each repository its own iqnPrefix (or controlPort), or delete the stray target with tgtadm.',
      options,
    );
  }
}

export class TargetBusyError extends AgentError {
  constructor(
    readonly target: string,
    readonly initiators: string[],
    options?: { cause?: unknown },
  ) {
    super(
      'target_busy',
      `Target ${target} still has sessions from ${initiators.join(', ')}. ` +
        'Power off or detach those machines so they log out, then retry.',
      options,
    );
  }
}

export class TargetUnreachableError extends AgentError {
  constructor(
    readonly controlPort: number,
    options?: { cause?: unknown },
  ) {
    super(
      'target_unreachable',
      `No tgtd answers on control port ${controlPort}. Start it (tgtd --iscsi portal=HOST:PORT -C ${controlPort}), ` +
        'or set manageTarget: true in the repository settings so the agent starts it.',
      options,
    );
  }
}

export class PortalNotServedError extends AgentError {
  constructor(
    readonly controlPort: number,
    readonly portal: string,
    readonly served: string[],
    options?: { cause?: unknown },
  ) {
    super(
      'portal_not_served',
      `The tgtd on control port ${controlPort} serves ${served.join(', ') || 'no portal'}, not ${portal}. ` +
        'Fix settings.portal or settings.controlPort, or free the portal address and restart that tgtd.',
      options,
    );
  }
}

export class TargetStartError extends AgentError {
  constructor(
    readonly controlPort: number,
    readonly portal: string,
    readonly log: string,
    options?: { cause?: unknown },
  ) {
    super(
      'target_start_failed',
      `tgtd for portal ${portal} (control port ${controlPort}) did not start: ${log || 'no output'}. ` +
        'Check that the portal address is free and that no other tgtd uses that control port, then retry.',
      options,
    );
  }
}

export class TgtadmError extends AgentError {
  constructor(
    readonly args: string[],
    readonly exitCode: number,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      'tgtadm_failed',
      `tgtadm ${args.join(' ')} failed with exit code ${exitCode}: ${stderr || 'no output'}. ` +
        'Check the tgtd log; the target state can be inspected with tgtadm --op show --mode target.',
      options,
    );
  }
}
