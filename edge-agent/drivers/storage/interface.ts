/**
 * Storage drivers hold master and clone images in a repository.
 *
 * Glossary
 * - repository: a place the agent can reach that holds images; for kind `file`, a directory
 *   (NAS export or local disk) given by its absolute `path`.
 * - image: one disk image inside a repository, named by a path relative to the repository root.
 * - master: an imported image; never written to after import.
 * - clone: an image made from a master by a clone method; it belongs to one clone record.
 * - method: how a clone is made (`copy`, `sparse`, `reflink`, `overlay`, `san`); `auto` stands for
 *   the fastest that gives a standalone image.
 * - linked clone: a clone that reads through to its master (`overlay`, a qcow2 file); the others are
 *   standalone raw images, which can be customized offline and served as LUNs.
 * - sidecar: the directory `<image>.encompass` beside an image, holding state that belongs to it
 *   (customization undo records); it goes wherever the image goes and is removed with it.
 * - partial: an image still being received from outside the repository (an upload), kept under a
 *   name of its own until complete.
 * - export: letting one machine reach an image (a file path, or an iSCSI LUN with a name ACL).
 * - capability: an optional interface a driver may implement (below); discovered, never assumed.
 *
 * Rules every driver keeps
 * - Relative paths never leave the repository: `..`, absolute paths and symlinks pointing outside
 *   are refused with `PathEscapeError`.
 * - Writes go to a temp name (`.encompass-tmp-*` in the same directory) and are renamed into place
 *   only when complete and flushed, so a crash never leaves a half-written image under a real name;
 *   `cleanupTemp` removes what a crash left. A partial (`.encompass-partial-*`) is not a temp file:
 *   it is kept so the transfer can resume, until a repository check finds no operation claiming it.
 * - owner: the operation that made an image, noted in its sidecar before the image takes its name.
 *   An image its own operation left behind (the same operation run again after a crash) is replaced;
 *   any other keeps its name (`ImageExistsError`).
 * - Making an image never replaces one: an existing name is `ImageExistsError`. A caller that retries
 *   after a crash asks `exists` first and describes what it finds.
 * - Drivers return outcomes; they never write metadata.
 */
import type { DiskRef } from '../disk';
import type { RootSpace } from './reach';

/**
 * A repository as a task names it (the task contract's shape, statemachines/tasks.ts): `path` is
 * its root on the agent's host (for `iscsi`: where LUN backing files live), `settings` its
 * kind-specific settings, e.g. the iSCSI portal and IQN prefix.
 */
export type { RepositoryRef } from '../../../statemachines/tasks';

import type { ImageFacts, RepositoryRef, StoredImage as TaskStoredImage } from '../../../statemachines/tasks';

/** Who is to reach an exported image. */
export interface Access {
  machine: string;
  /** Required by storage that lets machines in by iSCSI name (InitiatorNameRequiredError). */
  initiatorName?: string;
}

export type ImageFormat = 'raw' | 'qcow2';

/**
 * What a driver reports of an image (the task contract's image facts): `sizeBytes` is the file's
 * length (for qcow2 the container file, not the virtual disk size), `allocatedBytes` what it takes
 * on disk (holes excluded).
 */
export type ImageInfo = ImageFacts;

/** Called with bytes processed so far and the total; may be called often, cheap to ignore. */
export type ProgressFn = (done: number, total: number) => void;

export interface CopyOptions {
  onProgress?: ProgressFn;
  /** Aborting stops the work, removes any partial output and rejects with OperationAbortedError. */
  signal?: AbortSignal;
}

export interface CloneOptions extends CopyOptions {
  /**
   * The master's sha256 when already known (recorded at import, where every byte was hashed). Every method
   * records it as the clone's sha256 instead of hashing the master again (at 1.6 GB/s on one core here,
   * hashing would take longer than the copy itself); without it, `copy` and `sparse` hash the master on a
   * worker thread while they copy, and `reflink` and `overlay` read it whole.
   */
  sourceSha256?: string;
  /**
   * The source's absolute path when it lives in another repository of this host, already resolved
   * and checked by that repository's driver; `src` is then only its name for messages.
   */
  sourcePath?: string;
  /** The operation making the clone (see owner in the glossary). */
  owner?: string;
}

/** An image of another repository, as its own driver resolved and checked it (see `copyIn`). */
export interface SourceImage {
  /** Absolute path of the image. */
  path: string;
  /** Absolute path of its sidecar directory, which need not exist. */
  sidecar: string;
}

export interface CopyInOptions extends CopyOptions {
  /** The operation making the copy (see owner in the glossary). */
  owner?: string;
  /** For a qcow2 that reads through to a master: the master's absolute path, which the copy's backing file must resolve to. */
  backing?: string;
}

export interface ReceiveOptions {
  /** The operation receiving the image (see owner in the glossary). */
  owner?: string;
}

/**
 * What `cleanupTemp` may remove besides temp files. Without `claimed` (as at agent start, when tasks
 * are about to resume) partials and sidecars stay.
 */
export interface CleanupOptions {
  /**
   * Says whether an image path (relative) is claimed by a record or by work in hand. Given, a partial
   * of an unclaimed image, and the sidecar of an unclaimed image that is not there, are removed too.
   */
  claimed?: (image: string) => boolean;
}

/** An image file found in a repository (see `list`). */
export type StoredImage = TaskStoredImage;

export interface CloneOutcome extends ImageInfo {
  /** The clone method actually used, e.g. `copy`. */
  method: string;
  /** For linked clones (`overlay`): the image this one reads through to, relative to the repository. */
  backing?: string;
}

/** Fills `partial` (absolute; it may hold what an earlier attempt wrote) with the image named `target`. */
export type ReceiveFn<T> = (partial: string, target: string) => Promise<T>;

export interface StorageDriver {
  readonly kind: string;
  /** Clone methods this repository supports, fastest first. */
  methods(repo: RepositoryRef): Promise<string[]>;
  /**
   * The method a clone asked for with `method` is made by: `auto` becomes the fastest of methods(repo) that
   * makes a standalone image (UnsupportedMethodError when there is none); a named method is returned as it is.
   */
  chooseMethod(repo: RepositoryRef, method: string): Promise<string>;
  /** The image name for a clone called `base` made by `method`: `<base>.qcow2` for a linked clone, else `<base>.img`. */
  cloneName(base: string, method: string): string;
  /** Absolute path of `rel` inside `repo`. Throws PathEscapeError / ImageNotFoundError (when mustExist). */
  resolve(repo: RepositoryRef, rel: string, mustExist?: boolean): Promise<string>;
  /** Whether an image file is at `rel`. Throws PathEscapeError. */
  exists(repo: RepositoryRef, rel: string): Promise<boolean>;
  /** Absolute path of the image's sidecar directory, which need not exist yet. Throws PathEscapeError. */
  sidecar(repo: RepositoryRef, rel: string): Promise<string>;
  /** Size, allocation, sha256 and format of an existing image. Throws ImageNotFoundError, CorruptImageError. */
  inspect(repo: RepositoryRef, rel: string, opts?: CopyOptions): Promise<ImageInfo>;
  /** The operation that made the image at `rel` (see owner in the glossary), if one is noted. Throws PathEscapeError. */
  owner(repo: RepositoryRef, rel: string): Promise<string | undefined>;
  /**
   * Every image file in the repository, below its root a few directories deep: not temp files, partials
   * or sidecars, and never through a symlink. `format` is a guess from the header (`unknown`: not a
   * whole number of sectors, or empty). Throws RepositoryUnavailableError.
   */
  list(repo: RepositoryRef): Promise<StoredImage[]>;
  /**
   * Make `dst` from `src` with `method` (one of methods(repo), or `auto` as chooseMethod reads it). Precondition:
   * `dst` does not exist, or `opts.owner` made it and it is replaced (ImageExistsError). UnsupportedMethodError names the methods offered; DiskFullError
   * when the repository lacks room. On any failure nothing is left under `dst` or a temp name.
   */
  clone(repo: RepositoryRef, src: string, dst: string, method: string, opts?: CloneOptions): Promise<CloneOutcome>;
  /**
   * Makes `rel` a copy of an image of another repository (a clone moving here): sparse (zero blocks stay
   * holes), hashed as it is read and verified by hashing the copy (ChecksumMismatchError), with the state
   * in the source's sidecar (undo records). A qcow2 whose backing file would not resolve to `opts.backing`
   * from `rel` is rebased onto it, header only (the disk it shows is the same); without `opts.backing`, a
   * backing file that does not resolve is UnreachableBackingError. Precondition: `rel` does not exist, or
   * `opts.owner` made it (ImageExistsError); DiskFullError when the repository lacks room for the source's
   * allocated bytes. The source stays as it is. On any failure nothing is left under `rel`, a temp name or
   * in its sidecar. Progress covers copying, then verifying: the total is twice the image's size.
   */
  copyIn(repo: RepositoryRef, rel: string, src: SourceImage, opts?: CopyInOptions): Promise<ImageInfo>;
  /**
   * Makes the image `rel` from bytes that arrive from outside: `write` fills the partial (its directory
   * exists), which is then flushed and renamed to `rel`. Precondition: `rel` does not exist, or
   * `opts.owner` made it (ImageExistsError). When `write` fails the partial stays, so calling again
   * resumes the transfer.
   */
  receive<T>(repo: RepositoryRef, rel: string, write: ReceiveFn<T>, opts?: ReceiveOptions): Promise<T>;
  /**
   * Makes the clone `rel` the master `dstRel`. Precondition: no machine uses the clone. A raw image is
   * moved there; a qcow2 one (a linked clone) is flattened into a standalone raw image, which takes
   * Flattening (else UnsupportedCaptureError). Then `rel` and its sidecar are removed. Resumable: when
   * `dstRel` exists already (an earlier call got past the move), only the removal is finished.
   * ImageNotFoundError when neither exists.
   */
  capture(repo: RepositoryRef, rel: string, dstRel: string, opts?: CopyOptions): Promise<void>;
  /** Remove an image and its sidecar directory; removing a missing image is not an error. */
  remove(repo: RepositoryRef, rel: string): Promise<void>;
  /**
   * Delete temp files left behind by an interrupted write (never one this process is writing); with
   * `opts.claimed`, also unclaimed partials and sidecars (CleanupOptions). Returns the absolute paths removed.
   */
  cleanupTemp(repo: RepositoryRef, opts?: CleanupOptions): Promise<string[]>;
  /**
   * Makes the image reachable by one machine and says how (a file path, or an iSCSI LUN that lets in
   * only `access.initiatorName`). Idempotent for the same access. Throws ImageNotFoundError.
   */
  export(repo: RepositoryRef, rel: string, access: Access): Promise<DiskRef>;
  /** Withdraws what `export` allowed `access`; other machines' exports stay. Idempotent. */
  unexport(repo: RepositoryRef, rel: string, access: Access): Promise<void>;
  /** Free bytes in the repository's filesystem. */
  freeBytes(repo: RepositoryRef): Promise<number>;
  /**
   * Checks that the repository can be used from this agent (on `host`): its root is a directory the
   * agent can write in, and whatever else its kind needs (valid settings). Returns the free and total
   * bytes of its filesystem. Throws RepositoryUnreachableError (or a settings error) saying what is wrong.
   */
  reach(repo: RepositoryRef, host: string): Promise<RootSpace>;
}

// Capabilities: optional interfaces a driver may implement. Callers check with the guard beside each.

/** Storage that can write out the disk a linked clone shows as a standalone raw image. */
export interface Flattening {
  /**
   * Writes `dstRel` as a sparse raw image with the disk content of `rel` (an overlay: its writes over its
   * master's bytes). Precondition: `dstRel` does not exist (ImageExistsError); running out of space is
   * DiskFullError. Progress covers converting, then hashing: the total is twice the virtual size.
   */
  flatten(repo: RepositoryRef, rel: string, dstRel: string, opts?: CopyOptions): Promise<ImageInfo>;
}

export function canFlatten(driver: StorageDriver): driver is StorageDriver & Flattening {
  return typeof (driver as Partial<Flattening>).flatten === 'function';
}
