/** What a clone method gets from the driver and what it hands back. */
import type { CloneOptions, ImageFormat } from '../interface';

export type { CloneOptions } from '../interface';

export interface CloneJob {
  /** Absolute path of the master. */
  src: string;
  /** The master's path relative to the repository root. */
  srcRel: string;
  /** Absolute temp path the method creates; the driver renames it to the clone's name. */
  tmp: string;
  format: ImageFormat;
  sizeBytes: number;
  allocatedBytes: number;
  /** File mode of the clone: the master's, plus write permission for its owner (masters are read-only). */
  mode: number;
  /** Every method this repository supports, for the error when one turns out not to work here. */
  supported: string[];
  opts: CloneOptions;
}

export interface MadeClone {
  sha256: string;
  format: ImageFormat;
  /** For linked clones: the master the clone reads through to, relative to the repository. */
  backing?: string;
}

export interface CloneMethod {
  readonly name: string;
  /** The clone reads through to its master (a qcow2 overlay) instead of being a standalone image. */
  readonly linked: boolean;
  /** Bytes that must be free in the repository before starting. */
  neededBytes(job: CloneJob): number;
  /** Creates `job.tmp` as a complete clone, flushed to disk, with mode `job.mode`. */
  make(job: CloneJob): Promise<MadeClone>;
}

/** Room a metadata-only clone (reflink, qcow2 overlay) needs: block maps, a qcow2 header and tables. */
export const METADATA_BYTES = 1024 * 1024;
