/** Small filesystems on loop devices (XFS with reflink, ext4 without), for tests of clone methods (root only). */
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { RepositoryRef } from '../../../../edge-agent/drivers/storage/interface';
import { type DataRegion, makeSparseImage, requireTool } from './images';

export interface LoopFs {
  /** Where the filesystem is mounted. */
  mountPoint: string;
  device: string;
  /** Temp directory holding the backing file and the mount point. */
  workDir: string;
}

const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const MKFS = {
  xfs: { tool: 'mkfs.xfs', pkg: 'xfsprogs', args: ['-q', '-m', 'reflink=1'] },
  ext4: { tool: 'mkfs.ext4', pkg: 'e2fsprogs', args: ['-q'] },
};

/** Makes and mounts an XFS with `-m reflink=1` on a sparse loop file of `size` (XFS needs at least 300M). */
export function mountXfsReflink(size = '512M'): LoopFs {
  return mountLoopFs('xfs', size);
}

/** Makes and mounts a filesystem of `kind` on a sparse loop file of `size` (e.g. '512M'). */
export function mountLoopFs(kind: keyof typeof MKFS, size: string): LoopFs {
  const mkfs = MKFS[kind];
  requireTool(mkfs.tool, mkfs.pkg);
  requireTool('losetup', 'mount');
  const workDir = mkdtempSync(path.join(os.tmpdir(), `encompass-${kind}-`));
  const backing = path.join(workDir, `${kind}.img`);
  const mountPoint = path.join(workDir, 'mnt');
  let device = '';
  try {
    run('truncate', ['-s', size, backing]);
    run(mkfs.tool, [...mkfs.args, backing]);
    device = run('losetup', ['--find', '--show', backing]);
    run('mkdir', [mountPoint]);
    run('mount', [device, mountPoint]);
    return { mountPoint, device, workDir };
  } catch (err) {
    unmountLoopFs({ mountPoint, device, workDir });
    throw new Error(
      `Making a ${kind} filesystem in ${workDir} failed; these tests must run as root with loop devices`,
      { cause: err },
    );
  }
}

function isMounted(dir: string): boolean {
  try {
    execFileSync('mountpoint', ['-q', dir]);
    return true;
  } catch {
    return false;
  }
}

/** Unmounts (retrying while files are being closed), detaches the loop device, deletes the backing file. */
export function unmountLoopFs(loop: LoopFs): void {
  for (let attempt = 1; isMounted(loop.mountPoint); attempt++) {
    try {
      run('umount', [loop.mountPoint]);
    } catch (err) {
      if (attempt >= 10)
        throw new Error(`${loop.mountPoint} stays busy: something still has a file open in it`, { cause: err });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  if (loop.device) {
    try {
      run('losetup', ['-d', loop.device]);
    } catch {
      // the kernel detached it already (autoclear)
    }
  }
  rmSync(loop.workDir, { recursive: true, force: true });
}

/** Bytes in use on the filesystem holding `dir`. */
export function usedBytes(dir: string): number {
  const out = run('df', ['--output=used', '-B1', dir]).split('\n');
  return Number(out.at(-1));
}

/**
 * For a describe block: an XFS with reflink mounted for the block, and for each test a fresh
 * repository on it holding a read-only sparse master `masters/m.img` with `regions` of data.
 */
export function useXfsRepository(sizeBytes: number, regions: DataRegion[]) {
  let loop: LoopFs | undefined;
  const at = { repo: undefined as unknown as RepositoryRef, inRepo: (rel: string) => path.join(at.repo.path, rel) };
  beforeAll(() => {
    loop = mountXfsReflink();
  });
  afterAll(() => {
    if (loop) unmountLoopFs(loop);
  });
  beforeEach(async () => {
    at.repo = { id: 'x', kind: 'file', path: await fs.mkdtemp(path.join(loop!.mountPoint, 'repo-')) };
    await makeSparseImage(at.inRepo('masters/m.img'), sizeBytes, regions);
    await fs.chmod(at.inRepo('masters/m.img'), 0o444);
  });
  afterEach(async () => fs.rm(at.repo.path, { recursive: true, force: true }));
  return at;
}
