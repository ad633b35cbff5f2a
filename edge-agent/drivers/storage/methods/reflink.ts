import { constants, promises as fs } from 'node:fs';
import { UnsupportedMethodError } from '../errors';
import { metadataClone } from './metadata-clone';
import { type CloneMethod, METADATA_BYTES } from './types';

const CLONE_FLAGS = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE;

/** Errors that mean the filesystem cannot share extents here (as opposed to I/O or space trouble). */
const REFUSALS = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL', 'ENOTTY', 'ENOSYS']);

export function isReflinkRefusal(err: unknown): boolean {
  return REFUSALS.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * FICLONE: the clone shares the master's extents, copy-on-write, so it takes no time or space. Its bytes
 * equal the master's by construction, so a known master sha256 is recorded instead of re-reading it.
 */
export const reflinkMethod: CloneMethod = {
  name: 'reflink',
  linked: false,
  neededBytes: () => METADATA_BYTES,
  async make(job) {
    const sha256 = await metadataClone(job, job.tmp, () =>
      fs.copyFile(job.src, job.tmp, CLONE_FLAGS).catch((err) => {
        if (!isReflinkRefusal(err)) throw err;
        const others = job.supported.filter((m) => m !== 'reflink');
        throw new UnsupportedMethodError('reflink', others, { cause: err });
      }),
    );
    return { sha256, format: job.format };
  },
};
