/**
 * Reaching an NTFS volume for one pass: an `ntfs-3g` FUSE mount (no kernel NTFS driver) of the image
 * file, or, for a volume inside a partition, of a loop device over just that byte range (`losetup
 * --offset --sizelimit`): ntfs-3g and the ntfsprogs tools open a device or a file from its first byte
 * and take no offset, and copying a partition out and back in would cost its whole size on every pass.
 *
 * ntfs-3g runs in the foreground (`no_detach`) as our child, so its exit after the unmount is the
 * moment every write has reached the image. Whatever happens in between, errors included, the mount
 * is undone, the child waited for and the loop device detached before this resolves or throws.
 * Mounting needs /dev/fuse and, for loop devices, root (CAP_SYS_ADMIN): the agent runs as root.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ToolFailedError, ToolMissingError } from '../errors';
import { UnsupportedImageError } from './errors';

const execFileAsync = promisify(execFile);
const MOUNT_TIMEOUT_MS = 60_000;
const POLL_MS = 5;
const UNMOUNT_ATTEMPTS = 20;

export interface NtfsTarget {
  imagePath: string;
  offsetBytes: number;
  /** Bytes of the volume, from its boot sector: the loop device's size limit. */
  sizeBytes: number;
}

/** Why ntfs-3g refused a volume, by its exit code (ntfs-3g's `ntfs_volume_status`). */
const REFUSALS: Record<number, string> = {
  12: 'there is no NTFS filesystem at that offset',
  13: 'the NTFS filesystem is damaged; run ntfsfix on it (or chkdsk in Windows) first',
  14: 'Windows is hibernated on it (or Fast Startup left it in use); boot it and shut it down fully, with Fast Startup off',
  15: 'it was not cleanly unmounted and its journal holds unsaved changes; boot Windows and shut it down fully first',
};

/** Runs `use` with the volume mounted at a private directory; read-only unless `writable`. */
export async function withMountedVolume<T>(
  target: NtfsTarget,
  writable: boolean,
  use: (root: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'encompass-ntfs-'));
  try {
    return await withDevice(target, writable, (device) => withMount(target, device, join(dir, 'mnt'), writable, use));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withDevice<T>(target: NtfsTarget, writable: boolean, use: (device: string) => Promise<T>): Promise<T> {
  if (target.offsetBytes === 0) return use(target.imagePath);
  const args = [
    '--find',
    '--show',
    '--offset',
    String(target.offsetBytes),
    '--sizelimit',
    String(target.sizeBytes),
    ...(writable ? [] : ['--read-only']),
    target.imagePath,
  ];
  const device = (await tool('losetup', 'mount', args)).trim();
  try {
    return await use(device);
  } finally {
    await tool('losetup', 'mount', ['--detach', device]);
  }
}

async function withMount<T>(
  target: NtfsTarget,
  device: string,
  mountPoint: string,
  writable: boolean,
  use: (root: string) => Promise<T>,
): Promise<T> {
  await mkdir(mountPoint);
  const options = [...(writable ? [] : ['ro']), 'permissions', 'no_detach'].join(',');
  const child = spawn('ntfs-3g', ['-o', options, device, mountPoint], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4096);
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('exit', (code) => resolve({ code }));
  });
  const failure = await mounted(mountPoint, exited);
  if (failure) throw refusal(target, failure, output);
  let result: T;
  try {
    result = await use(mountPoint);
  } catch (error) {
    await unmount(mountPoint, child, exited).catch(() => undefined);
    throw error;
  }
  const end = await unmount(mountPoint, child, exited);
  if (end.code !== 0)
    throw new ToolFailedError('ntfs-3g', output, { imagePath: target.imagePath, exitCode: end.code ?? undefined });
  return result;
}

/** Waits until the mount point is in the mount table; what ntfs-3g exited with if it never gets there. */
async function mounted(
  mountPoint: string,
  exited: Promise<{ code: number | null; error?: Error }>,
): Promise<{ code: number | null; error?: Error } | null> {
  let gone: { code: number | null; error?: Error } | null = null;
  void exited.then((e) => {
    gone = e;
  });
  const deadline = Date.now() + MOUNT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isMounted(mountPoint)) return null;
    if (gone) return gone;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { code: null, error: new Error(`the mount did not appear within ${MOUNT_TIMEOUT_MS} ms`) };
}

async function isMounted(mountPoint: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = mountPoint.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return table.split('\n').some((line) => line.split(' ')[4] === escaped);
}

/** Unmounts (retrying while the mount is busy) and waits for ntfs-3g to finish writing and exit. */
async function unmount(
  mountPoint: string,
  child: ChildProcess,
  exited: Promise<{ code: number | null; error?: Error }>,
): Promise<{ code: number | null }> {
  for (let attempt = 1; (await isMounted(mountPoint)) && attempt <= UNMOUNT_ATTEMPTS; attempt++) {
    try {
      await execFileAsync('umount', [mountPoint]);
    } catch (error) {
      if (attempt === UNMOUNT_ATTEMPTS) {
        // Last resort: ntfs-3g unmounts and flushes on SIGTERM too.
        child.kill('SIGTERM');
        await exited;
        throw new ToolFailedError('umount', String((error as { stderr?: string }).stderr ?? error), {
          args: [mountPoint],
        });
      }
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  return exited;
}

function refusal(target: NtfsTarget, failure: { code: number | null; error?: Error }, output: string): Error {
  if ((failure.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    return new ToolMissingError('ntfs-3g', 'ntfs-3g', { cause: failure.error });
  const reason = failure.code === null ? undefined : REFUSALS[failure.code];
  if (reason) return new UnsupportedImageError(target.imagePath, `${reason} (volume at offset ${target.offsetBytes})`);
  return new ToolFailedError(
    'ntfs-3g',
    `${output}${failure.error ? `\n${failure.error.message}` : ''}`,
    { imagePath: target.imagePath, exitCode: failure.code ?? undefined },
    { cause: failure.error },
  );
}

async function tool(name: string, pkg: string, args: string[]): Promise<string> {
  try {
    return (await execFileAsync(name, args)).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ToolMissingError(name, pkg, { cause: error });
    const e = error as { stderr?: string; code?: number };
    throw new ToolFailedError(name, e.stderr ?? String(error), { args, exitCode: e.code }, { cause: error });
  }
}
