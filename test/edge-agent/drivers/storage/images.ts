/** Builders for small real disk images used by the storage driver tests. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const MiB = 1024 * 1024;

export interface DataRegion {
  offset: number;
  length: number;
}

/** A sparse file of `sizeBytes` with random data only in `regions`; everything else is a hole. */
export async function makeSparseImage(file: string, sizeBytes: number, regions: DataRegion[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const fh = await fs.open(file, 'wx');
  try {
    await fh.truncate(sizeBytes);
    for (const { offset, length } of regions) await fh.write(randomBytes(length), 0, length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * 64 MiB with 8 MiB of data: seven 1 MiB regions on chunk boundaries plus sixteen 64 KiB pieces that
 * sit inside otherwise empty 1 MiB chunks, so holes within a chunk are exercised too.
 */
export const SPARSE_64M_REGIONS: DataRegion[] = [
  ...Array.from({ length: 7 }, (_, i) => ({ offset: i * 8 * MiB, length: MiB })),
  ...Array.from({ length: 16 }, (_, i) => ({ offset: (i * 4 + 2) * MiB + 4096 * (i * 3 + 1), length: 64 * 1024 })),
];

export function requireTool(tool: string, pkg: string): void {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
  } catch {
    throw new Error(`These tests need ${tool} on PATH: install ${pkg} (apt-get install ${pkg}).`);
  }
}

export function makeQcow2(file: string, virtualSize: string): void {
  requireTool('qemu-img', 'qemu-utils');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, virtualSize]);
}

export async function sha256OfFile(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

export async function allocatedBytes(file: string): Promise<number> {
  return (await fs.stat(file)).blocks * 512;
}

/** Every `.encompass-tmp-*` file anywhere below `dir`. */
export async function findTemps(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.filter((e) => path.basename(e).startsWith('.encompass-tmp-')).map((e) => path.join(dir, e));
}

export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/** True when the disks `a` and `b` show the same bytes, whatever their formats (`qemu-img compare`). */
export function sameDiskContent(a: string, b: string): boolean {
  requireTool('qemu-img', 'qemu-utils');
  try {
    execFileSync('qemu-img', ['compare', '-q', a, b], { stdio: 'pipe' });
    return true;
  } catch (err) {
    if ((err as { status?: number }).status === 1) return false;
    throw err;
  }
}

/** Writes `length` bytes of `pattern` at `offset` into the disk seen through `file` (any format), like a guest would. */
export function writeIntoDisk(
  file: string,
  format: 'raw' | 'qcow2',
  offset: number,
  length: number,
  pattern = 0x55,
): void {
  requireTool('qemu-io', 'qemu-utils');
  execFileSync('qemu-io', ['-f', format, '-c', `write -P ${pattern} ${offset} ${length}`, file], { stdio: 'pipe' });
}
