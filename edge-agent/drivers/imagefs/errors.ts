/** Errors of the image filesystem drivers. Each says what went wrong and what to do about it. */

export class ImageFsError extends Error {
  override readonly name: string = 'ImageFsError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The image holds no volume this driver can edit, or the volume cannot be opened. */
export class UnsupportedImageError extends ImageFsError {
  override readonly name = 'UnsupportedImageError';

  constructor(
    readonly imagePath: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'unsupported_image',
      `${imagePath}: ${reason}. Use an image holding an ext2/ext3/ext4 filesystem (bare, or as a partition of an MBR or GPT disk) and pass the volume returned by detect().`,
      options,
    );
  }
}

/** A path inside the volume that cannot be used as given. */
export class InvalidFsPathError extends ImageFsError {
  override readonly name = 'InvalidFsPathError';

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

/** The parent directory of a file to write does not exist (drivers never create directories). */
export class MissingDirectoryError extends ImageFsError {
  override readonly name = 'MissingDirectoryError';

  constructor(
    readonly fsPath: string,
    readonly directory: string,
    readonly reason = 'does not exist',
  ) {
    super(
      'missing_directory',
      `Cannot write ${fsPath}: directory ${directory} ${reason} in the image. Write to an existing directory, or fix the path.`,
    );
  }
}

/** The path names something other than a regular file (directory, symbolic link, device, …). */
export class NotRegularFileError extends ImageFsError {
  override readonly name = 'NotRegularFileError';

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

/** The filesystem tool failed or reported an error. */
export class ToolFailedError extends ImageFsError {
  override readonly name = 'ToolFailedError';

  constructor(
    readonly tool: string,
    readonly imagePath: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(
      'tool_failed',
      `${tool} failed on ${imagePath}: ${output.trim() || 'no output'}. Check that the image is not in use and that its filesystem is sound (e2fsck -fn).`,
      options,
    );
  }
}

/** A required program is not installed on the agent's host. */
export class ToolMissingError extends ImageFsError {
  override readonly name = 'ToolMissingError';

  constructor(
    readonly tool: string,
    readonly packageName: string,
    options?: { cause?: unknown },
  ) {
    super('tool_missing', `${tool} is not installed. Install it: apt-get install ${packageName}.`, options);
  }
}

/** A written file did not read back as written: the image must not be trusted as is. */
export class WriteVerificationError extends ImageFsError {
  override readonly name = 'WriteVerificationError';

  constructor(
    readonly imagePath: string,
    readonly fsPath: string,
    readonly detail: string,
  ) {
    super(
      'write_verification_failed',
      `Writing ${fsPath} in ${imagePath} did not take effect (${detail}). Check the filesystem with e2fsck -fn, then retry.`,
    );
  }
}

/** A file mode outside the permission bits (0 … 0o7777). */
export class InvalidModeError extends ImageFsError {
  override readonly name = 'InvalidModeError';

  constructor(readonly mode: unknown) {
    super(
      'invalid_mode',
      `File mode ${String(mode)} is not valid. Give permission bits as a number from 0 to 0o7777, e.g. 0o644.`,
    );
  }
}
