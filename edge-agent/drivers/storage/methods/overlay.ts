import path from 'node:path';
import { runChecked } from '../exec';
import { metadataClone } from './metadata-clone';
import { type CloneMethod, METADATA_BYTES } from './types';

/**
 * A linked clone: a qcow2 that records only what the machine writes and reads everything else through to
 * the master, named by its absolute path. The master must then never change: making it read-only on import
 * (chmod a-w) is the caller's job; this method does not check it.
 *
 * The outcome's sha256 is the master's (what the machine sees at first boot), while `inspect` of the clone
 * later hashes the qcow2 file itself, so the two differ by design.
 */
export const overlayMethod: CloneMethod = {
  name: 'overlay',
  linked: true,
  neededBytes: () => METADATA_BYTES,
  async make(job) {
    const args = ['create', '-q', '-f', 'qcow2', '-b', job.src, '-F', job.format, job.tmp];
    const what = { operation: 'Cloning', path: job.src };
    const sha256 = await metadataClone(job, job.src, async () => {
      await runChecked('qemu-img', args, { signal: job.opts.signal, what });
    });
    return { sha256, format: 'qcow2', backing: path.posix.normalize(job.srcRel) };
  },
};
