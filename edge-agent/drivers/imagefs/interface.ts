/**
 * Image filesystem drivers read and change files inside a disk image while it is offline, without
 * the kernel mounting it: ext through debugfs, NTFS through a private ntfs-3g (FUSE) mount per pass.
 *
 * Glossary
 * - image: a raw disk image file: either a bare filesystem, or a partitioned disk (MBR or GPT).
 * - volume: the filesystem found in the image; `offsetBytes` is where it starts (0 when bare). Each
 *   driver recognises its own by a magic number: ext's superblock magic 0xEF53 at byte 1080, NTFS's
 *   OEM id `NTFS    ` at byte 3 of its boot sector.
 * - fs path: an absolute path inside the volume, e.g. `/etc/hostname`; anything else (relative, `.`
 *   or `..` components, line breaks) is InvalidFsPathError.
 * - pass: one run of the driver's tool over the volume. Opening a volume costs milliseconds, so
 *   `readFiles` and `writeFiles` do many files per pass; the single-file methods are for one-off use.
 * - snapshot: what `readFiles` found at each path it was asked about.
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

/** What is at a path in the volume. */
export interface FileEntry {
  /** As the driver's tool names it: `regular`, `directory`, `symlink`, … */
  type: string;
  /** Permission bits (0 … 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** The bytes of a regular file; absent for anything else. */
  content?: Buffer;
  /** Where a symbolic link points, when the driver can tell. */
  linkTarget?: string;
}

/** Each path `readFiles` was asked about, with what is there; null where nothing is. */
export type FileSnapshot = ReadonlyMap<string, FileEntry | null>;

/**
 * One change for `writeFiles`: a regular file created or replaced with `content` and `mode` (its owner
 * by default the replaced file's, root for a new one), or removed (`content: null`).
 */
export type FileChange =
  | { path: string; content: Buffer; mode: number; owner?: { uid: number; gid: number } }
  | { path: string; content: null };

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
  /**
   * Many paths in one pass: what is at each (with a regular file's content), null where nothing is,
   * or where a directory on the way is missing or not a directory. Nothing is followed or refused:
   * a symbolic link or directory is reported as such.
   */
  readFiles(imagePath: string, volume: VolumeInfo, paths: readonly string[]): Promise<FileSnapshot>;
  /**
   * Every change in one pass, then every changed path read back in one more and compared
   * (WriteVerificationError). Each path at most once. `basis` is a snapshot from `readFiles` of the
   * changed paths and of the directories new files go in, taken with nothing changing the image
   * since; what it lacks is read first, in one pass. Refused before anything changes: a missing
   * directory (MissingDirectoryError), a change to something that is not a regular file
   * (NotRegularFileError, SymlinkInImageError), a mode outside 0…0o7777 (InvalidModeError).
   * A pass that fails part-way (ToolFailedError, a full filesystem) may leave any of the changes in:
   * the caller puts back what it read, with another `writeFiles`.
   */
  writeFiles(
    imagePath: string,
    volume: VolumeInfo,
    changes: readonly FileChange[],
    basis?: FileSnapshot,
  ): Promise<void>;
}
