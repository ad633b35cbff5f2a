/** A clone becoming a master, the same on every driver that keeps images as files. */
import { promises as fs } from 'node:fs';
import { placeNew } from './atomic';
import { UnsupportedCaptureError } from './errors';
import { detectFormat } from './format';
import { type CopyOptions, canFlatten, type RepositoryRef, type StorageDriver } from './interface';

/**
 * StorageDriver.capture over `driver`'s own methods: a raw image is renamed to the master's name, a qcow2
 * one is flattened there; then the clone and its sidecar go. The format is read from the file itself,
 * never taken from a record.
 */
export async function captureImage(
  driver: StorageDriver,
  repo: RepositoryRef,
  rel: string,
  dstRel: string,
  opts: CopyOptions = {},
): Promise<void> {
  // A retry finds the master already made, and only finishes removing the clone.
  if (!(await driver.exists(repo, dstRel))) {
    const src = await driver.resolve(repo, rel, true);
    if ((await detectFormat(src)) === 'qcow2') {
      if (!canFlatten(driver)) throw new UnsupportedCaptureError(driver.kind);
      await driver.flatten(repo, rel, dstRel, opts);
    } else await placeNew(src, await driver.resolve(repo, dstRel));
  }
  // After the rename only the sidecar is left; remove() would also look for exports of the name.
  if (await driver.exists(repo, rel)) await driver.remove(repo, rel);
  else await fs.rm(await driver.sidecar(repo, rel), { recursive: true, force: true });
}
