/**
 * NTFS volumes (Windows masters) in raw images, bare or in a partition of an MBR or GPT disk, edited
 * through an ntfs-3g FUSE mount per pass (ntfs-files.ts, ntfs-mount.ts). Measured here, one mount
 * reads ten files in ~9 ms where ten `ntfscat` runs take ~70 ms and ten `ntfscp` writes ~300 ms, and
 * the ntfsprogs tools can neither remove a file nor take an offset; so every pass is one mount.
 *
 * Modes: ntfs-3g's `permissions` option keeps POSIX permission bits as the file's NTFS ACL (owner,
 * group, Everyone), so a mode reads back as written; a new file's 0644 lets Everyone read it, which
 * is what Windows Setup needs of an answer file. Paths are case-sensitive as written: name Windows
 * files with their exact case (`/Windows/Panther`, `/Windows/System32/config/SYSTEM`).
 */
import { resolve } from 'node:path';
import { checkMode, regularContent } from './changes';
import { UnsupportedImageError } from './errors';
import { splitFsPath } from './fs-path';
import type { FileChange, FileSnapshot, ImageFilesystem, VolumeInfo } from './interface';
import { probeNtfs } from './ntfs-boot';
import { readPass, writePass } from './ntfs-files';
import type { NtfsTarget } from './ntfs-mount';
import { findVolume, type ReadAt, withImageReader } from './partitions';

const DEFAULT_MODE = 0o644;

export class NtfsImageFilesystem implements ImageFilesystem {
  readonly name = 'ntfs';

  async detect(imagePath: string): Promise<VolumeInfo | null> {
    return openImage(imagePath, async (read, sizeBytes) => {
      const v = await findVolume(read, sizeBytes, probeNtfs);
      if (!v) return null;
      return {
        type: 'ntfs',
        offsetBytes: v.offsetBytes,
        ...(v.partition !== undefined ? { partition: v.partition } : {}),
        uuid: v.found.uuid,
      };
    });
  }

  async readFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<Buffer | null> {
    return regularContent(await this.readFiles(imagePath, volume, [fsPath]), fsPath);
  }

  async writeFile(
    imagePath: string,
    volume: VolumeInfo,
    fsPath: string,
    content: Buffer,
    mode?: number,
  ): Promise<void> {
    const { parent } = splitFsPath(fsPath);
    checkMode(mode);
    const target = await openVolume(imagePath, volume);
    const basis = await readPass(
      target,
      [parent, fsPath].filter((p) => p !== '/'),
      false,
    );
    const existing = basis.get(fsPath) ?? null;
    await writePass(target, [{ path: fsPath, content, mode: mode ?? existing?.mode ?? DEFAULT_MODE }], basis);
  }

  async removeFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<void> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume);
    const basis = await readPass(target, [fsPath], false);
    if (!basis.get(fsPath)) return;
    await writePass(target, [{ path: fsPath, content: null }], basis);
  }

  async fileMode(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<number | null> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume);
    return (await readPass(target, [fsPath], false)).get(fsPath)?.mode ?? null;
  }

  async readFiles(imagePath: string, volume: VolumeInfo, paths: readonly string[]): Promise<FileSnapshot> {
    for (const path of paths) splitFsPath(path);
    return readPass(await openVolume(imagePath, volume), paths, true);
  }

  async writeFiles(
    imagePath: string,
    volume: VolumeInfo,
    changes: readonly FileChange[],
    basis?: FileSnapshot,
  ): Promise<void> {
    for (const change of changes) splitFsPath(change.path);
    if (changes.length === 0) return;
    const target = await openVolume(imagePath, volume);
    const needed = changes.flatMap((c) => [c.path, ...(c.content === null ? [] : [splitFsPath(c.path).parent])]);
    const missing = needed.filter((p) => p !== '/' && !basis?.has(p));
    const read = missing.length > 0 ? await readPass(target, missing, false) : new Map();
    await writePass(target, changes, new Map([...(basis ?? []), ...read]));
  }
}

async function openImage<T>(imagePath: string, use: (read: ReadAt, sizeBytes: number) => Promise<T>): Promise<T> {
  try {
    return await withImageReader(imagePath, use);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new UnsupportedImageError(imagePath, `it cannot be read (${code})`, { cause: error });
  }
}

/** Checks that the volume still holds NTFS, and how many bytes it spans (a loop device's limit). */
async function openVolume(imagePath: string, volume: VolumeInfo): Promise<NtfsTarget> {
  const offsetBytes = volume.offsetBytes;
  if (volume.type !== 'ntfs' || !Number.isSafeInteger(offsetBytes) || offsetBytes < 0)
    throw new UnsupportedImageError(imagePath, `volume ${JSON.stringify(volume)} is not an NTFS volume`);
  const absolutePath = resolve(imagePath);
  const found = await openImage(absolutePath, async (read, sizeBytes) => {
    const boot = await probeNtfs(read, offsetBytes);
    return boot && { sizeBytes: Math.min(boot.sizeBytes, sizeBytes - offsetBytes) };
  });
  if (!found) throw new UnsupportedImageError(imagePath, `there is no NTFS filesystem at offset ${offsetBytes}`);
  return { imagePath: absolutePath, offsetBytes, sizeBytes: found.sizeBytes };
}
