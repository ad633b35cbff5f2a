/**
 * A `storage` seed: one repository, listed with its storage driver (the same listing a check
 * reads). A raw image's filesystem is guessed as the import would find it (the image filesystem
 * drivers' `detect`); an iSCSI repository's listing names the target serving an image (`servedAs`).
 *
 * sha256 is lazy, since reading every image of a NAS is the costliest thing discovery could do: a
 * digest the functions already know for the same repository, path, size and modification time is
 * returned as given, without reading the file; otherwise the image is hashed only when the task asks
 * (`hash`), on the storage drivers' hashing worker.
 */
import { MAX_OBSERVED, type VolumeObservation } from '../../statemachines/discovery';
import type { StoredImage } from '../../statemachines/tasks';
import { hashFile } from '../drivers/storage/hash';
import type { RepositoryRef } from '../drivers/storage/interface';
import { SeedRepositoryMissingError } from './errors';
import type { KnownDigest, Observed, SeedAsk } from './seed';

/** The iscsi storage driver serves each image as LUN 1 of a target of its own (iscsi/driver.ts). */
const SERVED_LUN = 1;

export async function askStorage(ask: SeedAsk): Promise<Observed> {
  const repo = ask.seed.repository;
  if (!repo) throw new SeedRepositoryMissingError(ask.seed.address);
  const images = await ask.drivers.storage(repo.kind).list(repo);
  const volumes: VolumeObservation[] = [];
  for (const image of images.slice(0, MAX_OBSERVED)) {
    if (ask.signal.aborted) throw ask.signal.reason;
    volumes.push(await volume(ask, repo, image));
  }
  return { machines: [], volumes, seen: images.length };
}

async function volume(ask: SeedAsk, repo: RepositoryRef, image: StoredImage): Promise<VolumeObservation> {
  const storage = ask.drivers.storage(repo.kind);
  const abs = () => storage.resolve(repo, image.path, true);
  const filesystem = image.filesystem ?? (image.format === 'raw' ? await detect(ask, await abs()) : undefined);
  const known = ask.digests.find((d) => sameImage(d, repo, image))?.sha256;
  const sha256 = known ?? (ask.hash ? await hashFile(await abs(), image.sizeBytes, { signal: ask.signal }) : undefined);
  return {
    seed: ask.index,
    repository: repo.id,
    path: image.path,
    sizeBytes: image.sizeBytes,
    allocatedBytes: image.allocatedBytes,
    format: image.format,
    modifiedAt: image.modifiedAt,
    ...(filesystem ? { filesystem } : {}),
    ...(sha256 ? { sha256 } : {}),
    ...(image.servedAs ? { iqn: image.servedAs, lun: SERVED_LUN } : {}),
  };
}

/** The digest still holds when neither the size nor the modification time changed since it was taken. */
function sameImage(d: KnownDigest, repo: RepositoryRef, image: StoredImage): boolean {
  return (
    d.repository === repo.id &&
    d.path === image.path &&
    d.sizeBytes === image.sizeBytes &&
    (d.modifiedAt === image.modifiedAt || Date.parse(d.modifiedAt) === Date.parse(image.modifiedAt))
  );
}

async function detect(ask: SeedAsk, abs: string): Promise<string | undefined> {
  for (const fs of ask.drivers.imagefs) {
    const found = await fs.detect(abs).catch(() => null);
    if (found) return found.type;
  }
  return undefined;
}
