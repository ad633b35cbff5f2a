/**
 * ext2/ext3/ext4 volumes edited offline with debugfs: no mount, no root privileges beyond access to
 * the image file. Every change is read back and compared before it is reported done.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ToolFailedError } from '../errors';
import { quoteArg as q, runDebugfs, withWorkDir } from './debugfs';
import {
  InvalidModeError,
  MissingDirectoryError,
  NotRegularFileError,
  SymlinkInImageError,
  UnsupportedImageError,
  WriteVerificationError,
} from './errors';
import { probeExt } from './ext-superblock';
import { splitFsPath } from './fs-path';
import type { ImageFilesystem, VolumeInfo } from './interface';
import { parsePartitionTable, type ReadAt, withImageReader } from './partitions';

const EXT_TYPES = new Set(['ext2', 'ext3', 'ext4']);
const DEFAULT_MODE = 0o644;
const REGULAR_FILE = 0o100000;
/** What debugfs says when a path (or one of its directories) is not there. */
const NOT_FOUND = /File not found by ext2_lookup|Ext2 inode is not a directory/;

interface Inode {
  /** As debugfs names it: `regular`, `directory`, `symlink`, … */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  /** Where a symbolic link points, when debugfs shows it (fast links). */
  linkTarget?: string;
}

interface Target {
  imagePath: string;
  offsetBytes: number;
}

export class ExtImageFilesystem implements ImageFilesystem {
  readonly name = 'ext';

  async detect(imagePath: string): Promise<VolumeInfo | null> {
    return openImage(imagePath, async (read, sizeBytes) => {
      const bare = await probeExt(read, 0);
      if (bare) return toVolume(bare, 0);
      const table = await parsePartitionTable(read, sizeBytes);
      for (const partition of table.partitions) {
        if (partition.offsetBytes >= sizeBytes) continue;
        const found = await probeExt(read, partition.offsetBytes);
        if (found) return toVolume(found, partition.offsetBytes, partition.number);
      }
      return null;
    });
  }

  async readFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<Buffer | null> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume, false);
    return withWorkDir(async (dir) => (await readRegular(target, dir, fsPath))?.content ?? null);
  }

  async writeFile(
    imagePath: string,
    volume: VolumeInfo,
    fsPath: string,
    content: Buffer,
    mode?: number,
  ): Promise<void> {
    const { parent, name } = splitFsPath(fsPath);
    if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777))
      throw new InvalidModeError(mode);
    const target = await openVolume(imagePath, volume, true);
    await withWorkDir(async (dir) => {
      const [directory, existing] = await inspect(target, dir, [parent, fsPath]);
      if (!directory) throw new MissingDirectoryError(fsPath, parent);
      if (directory.type !== 'directory')
        throw new MissingDirectoryError(fsPath, parent, { reason: `is a ${directory.type}, not a directory,` });
      if (existing && existing.type !== 'regular') throw notRegular(fsPath, existing);
      const wantMode = mode ?? existing?.mode ?? DEFAULT_MODE;
      const source = join(dir, 'content');
      await writeFile(source, content);
      // `write` refuses to replace a file (and still exits 0), so the old one goes first. Writing the bare
      // name from inside the directory works with every debugfs version, old ones included.
      await change(target, dir, [
        ...(existing ? [`rm ${q(fsPath)}`] : []),
        `cd ${q(parent)}`,
        `write ${q(source)} ${q(name)}`,
        `sif ${q(fsPath)} mode 0${(REGULAR_FILE | wantMode).toString(8)}`,
        `sif ${q(fsPath)} uid ${existing?.uid ?? 0}`,
        `sif ${q(fsPath)} gid ${existing?.gid ?? 0}`,
      ]);
      const after = await readRegular(target, dir, fsPath);
      if (!after) throw new WriteVerificationError(imagePath, fsPath, 'the file is missing after writing');
      if (after.inode.mode !== wantMode) {
        throw new WriteVerificationError(
          imagePath,
          fsPath,
          `mode is ${octal(after.inode.mode)}, expected ${octal(wantMode)}`,
        );
      }
      if (!after.content.equals(content)) {
        throw new WriteVerificationError(
          imagePath,
          fsPath,
          `read back ${after.content.length} bytes that differ from the ${content.length} written`,
        );
      }
    });
  }

  async removeFile(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<void> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume, true);
    await withWorkDir(async (dir) => {
      const [existing] = await inspect(target, dir, [fsPath]);
      if (!existing) return;
      if (existing.type !== 'regular') throw notRegular(fsPath, existing);
      await change(target, dir, [`rm ${q(fsPath)}`]);
      const [after] = await inspect(target, dir, [fsPath]);
      if (after) throw new WriteVerificationError(imagePath, fsPath, 'the file is still there after removing it');
    });
  }

  async fileMode(imagePath: string, volume: VolumeInfo, fsPath: string): Promise<number | null> {
    splitFsPath(fsPath);
    const target = await openVolume(imagePath, volume, false);
    return withWorkDir(async (dir) => (await inspect(target, dir, [fsPath]))[0]?.mode ?? null);
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

/** Inode facts for each path, null where the path does not exist. */
async function inspect(target: Target, workDir: string, paths: string[]): Promise<(Inode | null)[]> {
  const { sections, errors } = await runDebugfs(
    { ...target, workDir, writable: false },
    paths.map((p) => `stat ${q(p)}`),
  );
  const inodes = sections.map(parseStat);
  failOnUnexpected(target, errors, inodes.filter((i) => i === null).length);
  return inodes;
}

async function readRegular(
  target: Target,
  workDir: string,
  fsPath: string,
): Promise<{ inode: Inode; content: Buffer } | null> {
  const out = join(workDir, 'read-back');
  const { sections, errors } = await runDebugfs({ ...target, workDir, writable: false }, [
    `stat ${q(fsPath)}`,
    `dump ${q(fsPath)} ${q(out)}`,
  ]);
  const inode = parseStat(sections[0] ?? '');
  // Not a file: what dump says of it (a link's "short read") would only mislead.
  if (inode && inode.type !== 'regular') throw notRegular(fsPath, inode);
  failOnUnexpected(target, errors, inode ? 0 : 2);
  if (!inode) return null;
  return { inode, content: await readFile(out) };
}

/** Runs changing commands; debugfs reports failures only as text, so any error line is a failure. */
async function change(target: Target, workDir: string, commands: string[]): Promise<void> {
  const { errors } = await runDebugfs({ ...target, workDir, writable: true }, commands);
  if (errors.length > 0) throw new ToolFailedError('debugfs', errors.join('\n'), { imagePath: target.imagePath });
}

/** Tolerates exactly the "not found" lines expected for missing paths; anything else is a failure. */
function failOnUnexpected(target: Target, errors: string[], expectedNotFound: number): void {
  const unexpected = errors.filter((line) => !NOT_FOUND.test(line));
  const notFound = errors.length - unexpected.length;
  if (unexpected.length > 0 || notFound > expectedNotFound) {
    throw new ToolFailedError('debugfs', errors.join('\n'), { imagePath: target.imagePath });
  }
}

function parseStat(section: string): Inode | null {
  const type = /Type:\s+(\S+)/.exec(section)?.[1];
  const mode = /Mode:\s+([0-7]+)/.exec(section)?.[1];
  if (!/^Inode:/m.test(section) || type === undefined || mode === undefined) return null;
  const link = /Fast link dest:\s+"(.*)"/.exec(section)?.[1];
  return {
    type,
    mode: Number.parseInt(mode, 8) & 0o7777,
    uid: Number(/User:\s+(\d+)/.exec(section)?.[1] ?? 0),
    gid: Number(/Group:\s+(\d+)/.exec(section)?.[1] ?? 0),
    ...(link !== undefined ? { linkTarget: link } : {}),
  };
}

/** The error for an inode that is not a regular file where one was named. */
function notRegular(fsPath: string, inode: Inode): Error {
  return inode.type === 'symlink'
    ? new SymlinkInImageError(fsPath, inode.linkTarget)
    : new NotRegularFileError(fsPath, inode.type);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
