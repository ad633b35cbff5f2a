/**
 * Storage drivers hold master and clone images in a repository.
 *
 * Glossary
 * - repository: a place the agent can reach that holds images; for kind `file`, a directory
 *   (NAS export or local disk) given by its absolute `path`.
 * - image: one disk image inside a repository, named by a path relative to the repository root.
 * - master: an imported image; never written to after import.
 * - clone: an image made from a master by a clone method; it belongs to one clone record.
 * - capability: an optional thing a repository can do (e.g. reflink); discovered, not assumed.
 *
 * Rules every driver keeps
 * - Relative paths never leave the repository: `..`, absolute paths and symlinks pointing outside
 *   are refused with `PathEscapeError`.
 * - Writes go to a temp name (`.encompass-tmp-*` in the same directory) and are renamed into place
 *   only when complete and flushed, so a crash never leaves a half-written image under a real name.
 * - Drivers return outcomes; they never write metadata.
 */
import type { DiskRef } from '../disk';

export interface RepositoryRef {
  id: string;
  kind: string;
  /** Absolute path of the repository root on the agent's host (for `iscsi`: where LUN backing files live). */
  path: string;
  /** Kind-specific settings, e.g. the iSCSI portal and IQN prefix. */
  settings?: Record<string, unknown>;
}

/** Who is to reach an exported image. */
export interface Access {
  machine: string;
  initiatorName?: string;
}

export type ImageFormat = 'raw' | 'qcow2';

export interface ImageInfo {
  /** Length of the image file (for qcow2 the container file, not the virtual disk size). */
  sizeBytes: number;
  /** Bytes actually allocated on disk (holes excluded). */
  allocatedBytes: number;
  sha256: string;
  format: ImageFormat;
}

/** Called with bytes processed so far and the total; may be called often, cheap to ignore. */
export type ProgressFn = (done: number, total: number) => void;

export interface CopyOptions {
  onProgress?: ProgressFn;
  /** Aborting stops the work, removes any partial output and rejects with OperationAbortedError. */
  signal?: AbortSignal;
}

export interface CloneOptions extends CopyOptions {
  /**
   * The master's sha256 when already known (recorded at import). `reflink` and `overlay` record it as the
   * clone's sha256 instead of reading the whole image; `copy` and `sparse` read the bytes anyway and hash them.
   */
  sourceSha256?: string;
  /**
   * The source's absolute path when it lives in another repository of this host, already resolved
   * and checked by that repository's driver; `src` is then only its name for messages.
   */
  sourcePath?: string;
}

export interface CloneOutcome extends ImageInfo {
  /** The clone method actually used, e.g. `copy`. */
  method: string;
  /** For linked clones (`overlay`): the image this one reads through to, relative to the repository. */
  backing?: string;
}

export interface StorageDriver {
  readonly kind: string;
  /** Clone methods this repository supports, fastest first. */
  methods(repo: RepositoryRef): Promise<string[]>;
  /** Absolute path of `rel` inside `repo`. Throws PathEscapeError / ImageNotFoundError (when mustExist). */
  resolve(repo: RepositoryRef, rel: string, mustExist?: boolean): Promise<string>;
  /** Size, allocation, sha256 and format of an existing image. Throws ImageNotFoundError, CorruptImageError. */
  inspect(repo: RepositoryRef, rel: string, opts?: CopyOptions): Promise<ImageInfo>;
  /**
   * Make `dst` from `src` with `method` (`copy` here). Precondition: `dst` does not exist
   * (ImageExistsError). On any failure nothing is left under `dst` or a temp name.
   */
  clone(repo: RepositoryRef, src: string, dst: string, method: string, opts?: CloneOptions): Promise<CloneOutcome>;
  /** Remove an image and its sidecar directory; removing a missing image is not an error. */
  remove(repo: RepositoryRef, rel: string): Promise<void>;
  /** Delete temp files left behind by an interrupted write; returns what was removed. */
  cleanupTemp(repo: RepositoryRef): Promise<string[]>;
  /**
   * Makes the image reachable by one machine and says how (a file path, or an iSCSI LUN that lets in
   * only `access.initiatorName`). Idempotent for the same access.
   */
  export(repo: RepositoryRef, rel: string, access: Access): Promise<DiskRef>;
  /** Withdraws what `export` allowed. Idempotent. */
  unexport(repo: RepositoryRef, rel: string, access: Access): Promise<void>;
  /** Free bytes in the repository's filesystem. */
  freeBytes(repo: RepositoryRef): Promise<number>;
}
