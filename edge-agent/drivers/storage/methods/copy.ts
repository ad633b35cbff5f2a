import { sparseCopy } from '../sparse-copy';
import type { CloneMethod } from './types';

/** Streams every byte through the agent: reads, hashes, and writes all but zero blocks (kept as holes). */
export const copyMethod: CloneMethod = {
  name: 'copy',
  linked: false,
  neededBytes: (job) => job.allocatedBytes,
  async make(job) {
    const { sha256 } = await sparseCopy(job.src, job.tmp, job.opts, job.mode);
    return { sha256, format: job.format };
  },
};
