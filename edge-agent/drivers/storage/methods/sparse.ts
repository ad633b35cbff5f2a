import { promises as fs } from 'node:fs';
import { runChecked } from '../exec';
import { hashFile } from '../hash';
import { runPair, twoPartProgress } from '../progress';
import { syncFile } from '../sparse-copy';
import type { CloneMethod } from './types';

const POLL_MS = 200;

/**
 * `cp --sparse=always --reflink=never`: cp walks the master's hole map (SEEK_DATA/SEEK_HOLE), which Node
 * cannot, so holes are never read and stay holes, and zero blocks inside data become holes too. The sha256
 * must take in every byte, holes included, so a worker thread hashes the master while cp runs: knowing the
 * hole map would save only the kernel's zero-filling of hole reads, not the hashing.
 * Progress: allocated bytes of the new file against the master's, and bytes hashed; the slower counts.
 */
export const sparseMethod: CloneMethod = {
  name: 'sparse',
  linked: false,
  neededBytes: (job) => job.allocatedBytes,
  async make(job) {
    const { opts } = job;
    const progress = twoPartProgress(job.sizeBytes, opts.onProgress);
    const poll = setInterval(() => {
      fs.stat(job.tmp).then(
        (st) => progress.first(job.allocatedBytes ? (st.blocks * 512) / job.allocatedBytes : 0),
        () => {},
      );
    }, POLL_MS);
    const what = { operation: 'Cloning', path: job.src };
    try {
      const [sha256] = await runPair(
        opts.signal,
        what,
        (signal) =>
          hashFile(job.src, job.sizeBytes, { signal, onProgress: (done) => progress.second(done / job.sizeBytes) }),
        // Flushing belongs to the copying half, so it overlaps the rest of the hashing.
        async (signal) => {
          await runChecked('cp', ['--sparse=always', '--reflink=never', '--', job.src, job.tmp], { signal, what });
          await fs.chmod(job.tmp, job.mode);
          await syncFile(job.tmp);
        },
      );
      progress.finish();
      return { sha256, format: job.format };
    } finally {
      clearInterval(poll);
    }
  },
};
