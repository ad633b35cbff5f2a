/**
 * ext2/ext3/ext4 volumes edited offline with debugfs: no mount, no root privileges beyond access to
 * the image file. Every change is read back and compared before it is reported done. Many files cost
 * one debugfs run to read, and one to write and read back (ext-files.ts).
 */
import { resolve } from 'node:path';
import { checkMode, regularContent } from './changes';
import { withWorkDir } from './debugfs';
import { UnsupportedImageError } from './errors';
import { readPass, type Target, writePass } from './ext-files';
import { probeExt } from './ext-superblock';
import { splitFsPath } from './fs-path';
import type { FileChange, FileSnapshot, ImageFilesystem, VolumeInfo } from './interface';
import { findVolume, type ReadAt, withImageReader } from './partitions';

const EXT_TYPES = new Set(['ext2', 'ext3', 'ext4']);
const DEFAULT_MODE = 0o644;

export class ExtImageFilesystem implements ImageFilesystem {
  readonly name = 'ext';

  async detect(imagePath: string): Promise<VolumeInfo | null> {
    return openImage(imagePath, async (read, sizeBytes) => {
      const v = await findVolume(read, sizeBytes, probeExt);
      return v && toVolume(v.found, v.offsetBytes, v.partition);
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
    const target = await openVolume(imagePath, volume, true);
    await withWorkDir(async (dir) => {
      const basis = await readPass(target, dir, [parent, fsPath], false);
      const existing = basis.get(fsPath) ?? null;
      const change = { path: fsPath, content, mode: mode ?? existing?.mode ?? DEFAULT_MODE };
      await writePass(target, dir, [change], basis);
    });
  }

  async removeFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<void> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume, true);
    await withWorkDir(async (dir) => {
      const basis = await readPass(target, dir, [fsPath], false);
      if (!basis.get(fsPath)) return;
      await writePass(target, dir, [{ path: fsPath, content: null }], basis);
    });
  }

  async fileMode(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<number | null> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume, false);
    return withWorkDir(async (dir) => (await readPass(target, dir, [fsPath], false)).get(fsPath)?.mode ?? null);
  }

  async readFiles(imagePath: string, volume: VolumeInfo, paths: readonly string[]): Promise<FileSnapshot> {
    for (const path of paths) splitFsPath(path);
    const target = await openVolume(imagePath, volume, false);
    return withWorkDir((dir) => readPass(target, dir, paths, true));
  }

  async writeFiles(
    imagePath: string,
    volume: VolumeInfo,
    changes: readonly FileChange[],
    basis?: FileSnapshot,
  ): Promise<void> {
    for (const change of changes) splitFsPath(change.path);
    if (changes.length === 0) return;
    const target = await openVolume(imagePath, volume, true);
    await withWorkDir(async (dir) => {
      const needed = changes.flatMap((c) => [c.path, ...(c.content === null ? [] : [splitFsPath(c.path).parent])]);
      const missing = needed.filter((p) => p !== '/' && !basis?.has(p));
      const read = missing.length > 0 ? await readPass(target, dir, missing, false) : new Map();
      await writePass(target, dir, changes, new Map([...(basis ?? []), ...read]));
    });
  }
}

function toVolume(
  sb: { type: string; label?: string; uuid?: string },
  offsetBytes: number,
  partition?: number,
): VolumeInfo {
  const volume: VolumeInfo = { type: sb.type, offsetBytes };
  if (partition !== undefined) volume.partition = partition;
  if (sb.label !== undefined) volume.label = sb.label;
  if (sb.uuid !== undefined) volume.uuid = sb.uuid;
  return volume;
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

/** Checks that the volume still holds an ext filesystem, and that it is safe to change. */
async function openVolume(imagePath: string, volume: VolumeInfo, forWriting: boolean): Promise<Target> {
  const offsetBytes = volume.offsetBytes;
  if (!EXT_TYPES.has(volume.type) || !Number.isSafeInteger(offsetBytes) || offsetBytes < 0) {
    throw new UnsupportedImageError(imagePath, `volume ${JSON.stringify(volume)} is not an ext2/ext3/ext4 volume`);
  }
  const absolutePath = resolve(imagePath);
  const sb = await openImage(absolutePath, (read) => probeExt(read, offsetBytes));
  if (!sb) throw new UnsupportedImageError(imagePath, `there is no ext filesystem at offset ${offsetBytes}`);
  if (forWriting && sb.needsRecovery) {
    throw new UnsupportedImageError(
      imagePath,
      'its journal needs recovery (it was not unmounted cleanly); run e2fsck -fy on it first',
    );
  }
  return { imagePath: absolutePath, offsetBytes };
}
