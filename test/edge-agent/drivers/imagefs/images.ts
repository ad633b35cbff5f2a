/**
 * Small real disk images for tests, made with the real tools: mke2fs for the filesystem, sfdisk for
 * MBR and GPT tables. A missing tool fails the test with the package to install.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const PACKAGES: Record<string, string> = { sfdisk: 'fdisk', e2fsck: 'e2fsprogs', debugfs: 'e2fsprogs' };

export type Layout = 'bare' | 'mbr' | 'gpt';
export type ExtType = 'ext2' | 'ext3' | 'ext4';

export interface TestImage {
  imagePath: string;
  dir: string;
  /** Where the filesystem starts in the image. */
  offsetBytes: number;
  cleanup(): Promise<void>;
}

export interface ImageOptions {
  layout: Layout;
  fsType?: ExtType;
  label?: string;
  uuid?: string;
  /** Fills the directory that becomes the filesystem's root. */
  seed?: (root: string) => Promise<void>;
}

const MIB = 1024 * 1024;
/** Partitioned disks: 40 MiB; partition 1 (4 MiB, no filesystem) at 1 MiB, partition 2 (30 MiB, ext) at 5 MiB. */
const DISK_BYTES = 40 * MIB;
export const PARTITION_OFFSET = 5 * MIB;
const TABLES: Record<Exclude<Layout, 'bare'>, string> = {
  mbr: 'label: dos\nstart=2048, size=8192, type=c\nstart=10240, size=61440, type=83\n',
  gpt: 'label: gpt\nstart=2048, size=8192, type=U\nstart=10240, size=61440, type=L\n',
};

export async function run(tool: string, args: string[], input?: string): Promise<string> {
  try {
    const child = execFileAsync(tool, args, { maxBuffer: 16 * MIB });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const pkg = PACKAGES[tool] ?? (tool.startsWith('mkfs') ? 'e2fsprogs' : tool);
      throw new Error(`${tool} is needed by this test but is not installed: apt-get install ${pkg}`);
    }
    throw error;
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function makeExtImage(options: ImageOptions): Promise<TestImage> {
  const dir = await tempDir('encompass-imagefs-');
  const root = join(dir, 'root');
  await mkdir(root);
  await options.seed?.(root);
  const imagePath = join(dir, 'img.raw');
  const mkfs = `mkfs.${options.fsType ?? 'ext4'}`;
  const ids = [...(options.label ? ['-L', options.label] : []), ...(options.uuid ? ['-U', options.uuid] : [])];
  let offsetBytes = 0;
  if (options.layout === 'bare') {
    await run(mkfs, ['-q', '-F', ...ids, '-d', root, imagePath, '32M']);
  } else {
    await sizeFile(imagePath, DISK_BYTES);
    await run('sfdisk', ['-q', imagePath], TABLES[options.layout]);
    offsetBytes = PARTITION_OFFSET;
    await run(mkfs, ['-q', '-F', ...ids, '-E', `offset=${offsetBytes}`, '-d', root, imagePath, '30M']);
  }
  return { imagePath, dir, offsetBytes, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function sizeFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'a');
  await file.truncate(bytes);
  await file.close();
}

/** e2fsck in no-change mode; resolves to its output when the filesystem is clean, throws otherwise. */
export async function fsck(imagePath: string, offsetBytes: number): Promise<string> {
  const device = offsetBytes === 0 ? imagePath : `${imagePath}?offset=${offsetBytes}`;
  return run('e2fsck', ['-fn', device]);
}
