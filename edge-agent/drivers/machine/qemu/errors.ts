/** Typed failures of the qemu machine driver; the shared ones (NoDiskError, BootFailedError, …) come from ../errors. */
import { AgentError } from '../../../errors';

/** A machine setting or identity field qemu cannot use. */
export class QemuConfigError extends AgentError {
  constructor(
    readonly machineId: string,
    /** Where the bad value is, e.g. `settings.memoryMiB` or `identity.macs[0]`. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(
      'invalid_qemu_config',
      `Machine ${machineId}: ${field} ${problem}. Fix the machine's qemu settings (kernel, initrd, append, memoryMiB, cpus, bootMarker, bootTimeoutSeconds, powerOffGraceSeconds) or identity and try again.`,
    );
  }
}

export class QemuMissingError extends AgentError {
  constructor(
    readonly binary: string,
    options?: { cause?: unknown },
  ) {
    super(
      'qemu_missing',
      `The qemu binary ${binary} cannot be run on the agent host, so no virtual machine can start. Install it (apt-get install -y qemu-system-x86) or point the driver's qemuBinary at it.`,
      options,
    );
  }
}

/** qemu survived SIGKILL, which happens only when the host is stuck (uninterruptible I/O). */
export class QemuStuckError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly pid: number,
  ) {
    super(
      'qemu_stuck',
      `Machine ${machineId}: qemu process ${pid} did not exit even after SIGKILL. Check the host for hung storage (ps -o stat ${pid} shows D), then power off again.`,
    );
  }
}
