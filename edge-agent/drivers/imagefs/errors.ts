/**
 * Errors of the image filesystem drivers: AgentErrors with a `code`, each saying what went wrong and
 * what to do about it. The programs they run fail with ToolMissingError and ToolFailedError (../errors).
 */
import { AgentError } from '../../errors';

/** The image holds no volume this driver can edit, or the volume cannot be opened. */
export class UnsupportedImageError extends AgentError {
  constructor(
    readonly imagePath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'unsupported_image',
      `${imagePath}: ${reason}. Use an image holding an ext2/ext3/ext4 or NTFS filesystem (bare, or as a partition of an MBR or GPT disk) and pass the volume returned by detect().`,
      options,
    );
  }
}

/** A path inside the volume that cannot be used as given. */
export class InvalidFsPathError extends AgentError {
  constructor(
    readonly fsPath: string,
    readonly reason: string,
  ) {
    super(
      'invalid_fs_path',
      `Path ${JSON.stringify(fsPath)} inside the image is not usable: ${reason}. Give an absolute path such as /etc/hostname, without '.', '..', empty components or line breaks.`,
    );
  }
}

/**
 * The directory a file is to be written in is not in the image (nothing here creates directories).
 * Customization finds it before changing anything and names its item (`index`); a driver finds it
 * when asked to write.
 */
export class MissingDirectoryError extends AgentError {
  readonly reason: string;
  readonly index: number | undefined;

  constructor(
    readonly fsPath: string,
    readonly directory: string,
    found: { reason?: string; index?: number } = {},
  ) {
    const reason = found.reason ?? 'does not exist';
    super(
      'missing_directory',
      found.index === undefined
        ? `Cannot write ${fsPath}: directory ${directory} ${reason} in the image. Write to an existing directory, or fix the path.`
        : `Customization item ${found.index}: cannot create ${fsPath} because directory ${directory} is not in the image (items write files, never directories). Fix the path, or use an image that has the directory.`,
    );
    this.reason = reason;
    this.index = found.index;
  }
}

/** The path names something other than a regular file (directory, symbolic link, device, …). */
export class NotRegularFileError extends AgentError {
  constructor(
    readonly fsPath: string,
    readonly fileType: string,
  ) {
    super(
      'not_regular_file',
      `${fsPath} in the image is a ${fileType}, not a regular file. Only regular files are read, written and removed; for a symbolic link, name its target instead.`,
    );
  }
}

/** A symbolic link where a file was named: links inside an image are never followed. */
export class SymlinkInImageError extends AgentError {
  constructor(
    readonly fsPath: string,
    readonly linkTarget: string | undefined,
  ) {
    super(
      'symlink_in_image',
      `${fsPath} in the image is a symbolic link${linkTarget ? ` to ${linkTarget}` : ''}; links inside an image are not followed, so name the file it points to instead.`,
    );
  }
}

/** The error for something other than a regular file found where one was named. */
export function notRegularError(fsPath: string, entry: { type: string; linkTarget?: string }): Error {
  return entry.type === 'symlink'
    ? new SymlinkInImageError(fsPath, entry.linkTarget)
    : new NotRegularFileError(fsPath, entry.type);
}

/** A written file did not read back as written: the image must not be trusted as is. */
export class WriteVerificationError extends AgentError {
  constructor(
    readonly imagePath: string,
    readonly fsPath: string,
    readonly detail: string,
  ) {
    super(
      'write_verification_failed',
      `Writing ${fsPath} in ${imagePath} did not take effect (${detail}). Check the filesystem (e2fsck -fn for ext, ntfsfix -n for NTFS), then retry.`,
    );
  }
}

/** A file mode outside the permission bits (0 … 0o7777). */
export class InvalidModeError extends AgentError {
  constructor(readonly mode: unknown) {
    super(
      'invalid_mode',
      `File mode ${String(mode)} is not valid. Give permission bits as a number from 0 to 0o7777, e.g. 0o644.`,
    );
  }
}
