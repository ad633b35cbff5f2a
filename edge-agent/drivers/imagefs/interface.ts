/**
 * Image filesystem drivers read and change files inside a disk image while it is offline, without
 * mounting it.
 *
 * Glossary
 * - image: a raw disk image file: either a bare filesystem, or a partitioned disk (MBR or GPT).
 * - volume: the filesystem found in the image; `offsetBytes` is where it starts (0 when bare).
 * - fs path: an absolute path inside the volume, e.g. `/etc/hostname`; anything else (relative, `.`
 *   or `..` components, line breaks) is InvalidFsPathError.
 *
 * Rules: the image must not be in use by a machine (the lifecycle guarantees it: customization only
 * happens on clean clones that are not attached). Drivers never create directories. A volume that no
 * longer holds the filesystem `detect` found, or whose journal needs recovery, is UnsupportedImageError;
 * the programs a driver runs fail with ToolMissingError or ToolFailedError (../errors). Drivers return
 * outcomes; they never write metadata. There are no optional capabilities yet.
 */

export interface VolumeInfo {
  /** e.g. `ext4`. */
  type: string;
  offsetBytes: number;
  /** 1-based partition number, absent for a bare filesystem. */
  partition?: number;
  label?: string;
  uuid?: string;
}

export interface ImageFilesystem {
  readonly name: string;
  /**
   * The first supported volume in the image, or null when there is none this driver can edit.
   * An image file that cannot be read is UnsupportedImageError.
   */
  detect(imagePath: string): Promise<VolumeInfo | null>;
  /**
   * File content, or null when the file does not exist. Throws UnsupportedImageError, and
   * NotRegularFileError for a directory, symbolic link or device.
   */
  readFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<Buffer | null>;
  /**
   * Create or replace a file (parent directories must exist: MissingDirectoryError; a mode outside
   * 0…0o7777 is InvalidModeError). Without `mode`, a replaced file keeps its mode and owner, a new one
   * gets 0644 and owner root. The file is read back before this resolves; a mismatch is
   * WriteVerificationError.
   */
  writeFile(imagePath: string, volume: VolumeInfo, fsPath: string, content: Buffer, mode?: number): Promise<void>;
  /** Remove a file and check it is gone (WriteVerificationError); removing a missing file is not an error. */
  removeFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<void>;
  /** The permission bits of a file or directory, or null when it does not exist. */
  fileMode(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<number | null>;
}
