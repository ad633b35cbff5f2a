/**
 * An image of another repository copied in whole (StorageDriver.copyIn): sparse, verified, with its
 * sidecar's state, under a temp name until it is complete, flushed and still reads through to its master.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ChecksumMismatchError } from '../../errors';
import { syncDirectory } from '../../state-file';
import { writeNew } from './atomic';
import { keepBacking } from './backing';
import { validateImage } from './format';
import { hashFile } from './hash';
import type { CopyInOptions, ImageInfo, SourceImage } from './interface';
import { MADE_BY } from './owner';
import { SIDECAR_SUFFIX } from './paths';
import { sparseCopy, syncFile } from './sparse-copy';

/** Copies `from` into the new `to`, flushing every file and directory: undo records must outlive a crash. */
async function copyTree(from: string, to: string, skip?: string): Promise<void> {
  await fs.mkdir(to, { recursive: true, mode: 0o700 });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    if (entry.name === skip) continue;
    const [src, dst] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) await copyTree(src, dst);
    else if (entry.isFile()) {
      await fs.copyFile(src, dst);
      await syncFile(dst);
    }
  }
  await syncDirectory(to);
}

/** Copies the state in the sidecar `from` (all but the owner's marker, which belongs to who made the image) into `to`. */
async function copySidecarState(from: string, to: string): Promise<void> {
  const entries = await fs.readdir(from).catch(() => [] as string[]);
  if (entries.some((e) => e !== MADE_BY)) await copyTree(from, to, MADE_BY);
}

const missing = (p: string) =>
  fs.lstat(p).then(
    () => false,
    () => true,
  );

/** StorageDriver.copyIn for drivers that keep images as files in the directory `repoPath`. */
export async function copyImageIn(
  repoPath: string,
  dstAbs: string,
  src: SourceImage,
  opts: CopyInOptions = {},
): Promise<ImageInfo> {
  const st = await fs.stat(src.path);
  const size = st.size;
  const format = await validateImage(src.path, size);
  const { signal, onProgress } = opts;
  const sidecar = `${dstAbs}${SIDECAR_SUFFIX}`;
  // A sidecar that was not there belongs to this copy, and goes with it if the copy does not take its name.
  const newSidecar = await missing(sidecar);
  try {
    return await writeNew(
      repoPath,
      dstAbs,
      st.blocks * 512,
      async (tmp) => {
        const copied = await sparseCopy(
          src.path,
          tmp,
          { signal, onProgress: (d) => onProgress?.(d, 2 * size) },
          st.mode & 0o777,
        );
        const verify = { signal, onProgress: (d: number) => onProgress?.(size + d, 2 * size) };
        const sha256 = await hashFile(tmp, size, verify);
        if (sha256 !== copied.sha256) throw new ChecksumMismatchError(dstAbs, copied.sha256, sha256);
        const rebased = format === 'qcow2' && (await keepBacking(tmp, dstAbs, opts.backing, signal));
        await copySidecarState(src.sidecar, sidecar);
        const out = await fs.stat(tmp);
        const facts = { sizeBytes: out.size, allocatedBytes: out.blocks * 512, format };
        return { ...facts, sha256: rebased ? await hashFile(tmp, out.size, { signal }) : sha256 };
      },
      opts.owner,
    );
  } catch (err) {
    if (newSidecar) await fs.rm(sidecar, { recursive: true, force: true });
    throw err;
  }
}
