import { sparseCopy } from '../sparse-copy';
import type { CloneMethod } from './types';

/**
 * Reads only the master's data extents (its FIEMAP map; every byte when the filesystem has none), so holes
 * stay holes, and zero blocks inside the data become holes too. Plain reads and writes, never
 * copy_file_range: inside one XFS or btrfs that would share extents with the master, and a full copy must
 * stand alone. A known master sha256 is recorded; else the master is hashed meanwhile (holes as zeros).
 */
export const sparseMethod: CloneMethod = {
  name: 'sparse',
  linked: false,
  neededBytes: (job) => job.allocatedBytes,
  async make(job) {
    const { sha256 } = await sparseCopy(job.src, job.tmp, { ...job.opts, holes: 'sparse' }, job.mode);
    return { sha256, format: job.format };
  },
};
