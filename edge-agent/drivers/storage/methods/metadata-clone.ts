/** The steps shared by the clone methods that copy no data (reflink, overlay). */
import { promises as fs } from 'node:fs';
import { hashFile } from '../hash';
import { syncFile } from '../sparse-copy';
import type { CloneJob } from './types';

/**
 * Has `create` make `job.tmp` in one quick call, gives the clone its mode and flushes it. Returns the sha256
 * the machine sees at first boot: the master's when known, else that of `hashed`, read whole. Progress goes
 * from 0 straight to the total.
 */
export async function metadataClone(job: CloneJob, hashed: string, create: () => Promise<void>): Promise<string> {
  const { opts } = job;
  opts.onProgress?.(0, job.sizeBytes);
  await create();
  await fs.chmod(job.tmp, job.mode);
  await syncFile(job.tmp);
  const sha256 = opts.sourceSha256 ?? (await hashFile(hashed, job.sizeBytes, opts));
  opts.onProgress?.(job.sizeBytes, job.sizeBytes);
  return sha256;
}
