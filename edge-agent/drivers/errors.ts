/** Failures shared by driver kinds: the host programs they run (cp, qemu-img, tgtadm, debugfs…). */
import { AgentError } from '../errors';

/** A required program is not installed on the agent's host. */
export class ToolMissingError extends AgentError {
  constructor(
    readonly tool: string,
    /** The Debian package that ships it. */
    readonly packageName: string,
    options?: { cause?: unknown },
  ) {
    super(
      'tool_missing',
      `The ${tool} program is not installed on this host. Install it (package ${packageName}) and retry.`,
      options,
    );
  }
}

/** How a program failed: a non-zero exit of a command line, or errors it printed about an image. */
export interface ToolFailure {
  args?: string[];
  exitCode?: number;
  /** The image whose filesystem the program worked on (debugfs may print errors and still exit 0). */
  imagePath?: string;
}

/** A program ran and failed; `output` is the tail of what it printed. */
export class ToolFailedError extends AgentError {
  readonly args: string[];
  readonly exitCode: number | undefined;
  readonly imagePath: string | undefined;

  constructor(
    readonly tool: string,
    readonly output: string,
    failure: ToolFailure,
    options?: { cause?: unknown },
  ) {
    super('tool_failed', messageOf(tool, output, failure), options);
    this.args = failure.args ?? [];
    this.exitCode = failure.exitCode;
    this.imagePath = failure.imagePath;
  }

  /** The tool ran out of space on the target filesystem. */
  get noSpace(): boolean {
    return /No space left on device|Disk quota exceeded/i.test(this.output);
  }
}

function messageOf(tool: string, output: string, f: ToolFailure): string {
  if (f.imagePath !== undefined)
    return (
      `${tool} failed on ${f.imagePath}: ${output.trim() || 'no output'}. ` +
      'Check that the image is not in use and that its filesystem is sound (e2fsck -fn).'
    );
  const lastLine = output.trim().split('\n').at(-1) ?? '';
  return (
    `${tool} ${(f.args ?? []).join(' ')} failed with exit code ${f.exitCode}${lastLine ? `: ${lastLine}` : ''}. ` +
    'Check the repository filesystem and the image named in the message, then retry.'
  );
}
