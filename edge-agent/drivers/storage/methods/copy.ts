import { sparseCopy } from '../sparse-copy';
import type { CloneMethod } from './types';

/**
 * A full copy allocated as the master is (as `cp` makes it): its data extents, zero blocks included, and
 * its holes. A known master sha256 is recorded; else the master is hashed meanwhile.
 */
export const copyMethod: CloneMethod = {
  name: 'copy',
  linked: false,
  neededBytes: (job) => job.allocatedBytes,
  async make(job) {
    const { sha256 } = await sparseCopy(job.src, job.tmp, { ...job.opts, holes: 'allocated' }, job.mode);
    return { sha256, format: job.format };
  },
};
