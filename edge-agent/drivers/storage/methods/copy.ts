import { sparseCopy } from '../sparse-copy';
import type { CloneMethod } from './types';

/**
 * Streams every byte of the master through the agent (no hole map needed, so any filesystem will do),
 * writing all but zero blocks, which stay holes. A known master sha256 is recorded; else it is hashed meanwhile.
 */
export const copyMethod: CloneMethod = {
  name: 'copy',
  linked: false,
  neededBytes: (job) => job.allocatedBytes,
  async make(job) {
    const { sha256 } = await sparseCopy(job.src, job.tmp, job.opts, job.mode);
    return { sha256, format: job.format };
  },
};
