/** The scratch world of the clone benchmark: an XFS reflink filesystem on a loop file and a sparse master. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScratchFs {
  workDir: string;
  device: string;
  mountPoint: string;
}

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function have(tool: string): boolean {
  try {
    sh('which', [tool]);
    return true;
  } catch {
    return false;
  }
}

/** Throws with what to install or do when a tool or root is missing. */
export function checkPrerequisites(): void {
  if (process.getuid?.() !== 0)
    throw new Error('bench:clone makes and mounts a filesystem on a loop device: run it as root');
  const tools: Array<[string, string]> = [
    ['mkfs.xfs', 'xfsprogs'],
    ['losetup', 'mount'],
    ['qemu-img', 'qemu-utils'],
    ['cp', 'coreutils'],
  ];
  for (const [tool, pkg] of tools)
    if (!have(tool)) throw new Error(`bench:clone needs ${tool}: apt-get install ${pkg}`);
}

/** Free bytes where the loop file will live. */
export function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

/** A sparse loop file of `sizeBytes` under `parent`, formatted XFS with reflink and mounted. */
export function makeScratchFs(parent: string, sizeBytes: number): ScratchFs {
  const workDir = mkdtempSync(join(parent, 'encompass-bench-clone-'));
  const scratch: ScratchFs = { workDir, device: '', mountPoint: join(workDir, 'mnt') };
  const backing = join(workDir, 'xfs.img');
  sh('truncate', ['-s', String(sizeBytes), backing]);
  sh('mkfs.xfs', ['-q', '-m', 'reflink=1', backing]);
  scratch.device = sh('losetup', ['--find', '--show', backing]);
  sh('mkdir', [scratch.mountPoint]);
  sh('mount', [scratch.device, scratch.mountPoint]);
  return scratch;
}

/**
 * Gives the space of deleted clones back to the host disk (the loop file shrinks) and lets the filesystem
 * settle, outside any timing: online discard instead would slow whichever clone is timed next.
 */
export function settle(scratch: ScratchFs): void {
  sh('fstrim', [scratch.mountPoint]);
  sh('sync', ['-f', scratch.mountPoint]);
  // The first fsync after that waits for the host to write back the loop file: take that wait here.
  const probe = join(scratch.mountPoint, '.settle');
  writeFileSync(probe, 'x');
  sh('sync', [probe]);
  rmSync(probe);
  sh('sync', ['-f', scratch.mountPoint]);
}

/** Unmounts, detaches and deletes; safe to call twice and on a half-made filesystem. */
export function removeScratchFs(scratch: ScratchFs): void {
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      sh('mountpoint', ['-q', scratch.mountPoint]);
    } catch {
      break;
    }
    try {
      sh('umount', [scratch.mountPoint]);
    } catch (err) {
      if (attempt === 10) console.error(`cleanup: umount ${scratch.mountPoint} failed: ${(err as Error).message}`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    }
  }
  if (scratch.device) {
    try {
      sh('losetup', ['-d', scratch.device]);
    } catch {
      // detached already
    }
  }
  rmSync(scratch.workDir, { recursive: true, force: true });
}

/** Deterministic pick of `count` distinct slots out of `slots` (seeded LCG), so every run scatters alike. */
function scatteredSlots(slots: number, count: number, seed = 42): number[] {
  const order = Array.from({ length: slots }, (_, i) => i);
  let s = seed;
  for (let i = slots - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort((a, b) => a - b);
}

/** A sparse raw image of `sizeBytes` with `chunks` chunks of random data of `chunkBytes` each, scattered. */
export async function makeScatteredMaster(
  file: string,
  sizeBytes: number,
  chunkBytes: number,
  chunks: number,
): Promise<void> {
  const fh = await fs.open(file, 'wx');
  try {
    await fh.truncate(sizeBytes);
    for (const slot of scatteredSlots(Math.floor(sizeBytes / chunkBytes), chunks)) {
      await fh.write(randomBytes(chunkBytes), 0, chunkBytes, slot * chunkBytes);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.chmod(file, 0o444);
}
