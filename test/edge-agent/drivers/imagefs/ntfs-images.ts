/**
 * Small real NTFS images for tests: `mkntfs -F -Q` on the volume's bytes, the seed written through an
 * ntfs-3g mount (with `permissions`, so modes stick), then placed bare or as partition 2 of an MBR or
 * GPT disk laid out by sfdisk. A missing tool fails the test with the package to install.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Layout, PARTITION_OFFSET, run, sizeFile, type TestImage, tempDir } from './images';

const MIB = 1024 * 1024;
const DISK_BYTES = 40 * MIB;
const VOLUME_BYTES = 30 * MIB;
const TABLES: Record<Exclude<Layout, 'bare'>, string> = {
  mbr: 'label: dos\nstart=2048, size=8192, type=c\nstart=10240, size=61440, type=7\n',
  gpt: 'label: gpt\nstart=2048, size=8192, type=U\nstart=10240, size=61440, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n',
};

export interface NtfsImageOptions {
  layout: Layout;
  label?: string;
  /** Fills the directory that becomes the volume's root (through an ntfs-3g mount). */
  seed?: (root: string) => Promise<void>;
}

export async function makeNtfsImage(options: NtfsImageOptions): Promise<TestImage> {
  const dir = await tempDir('encompass-ntfs-image-');
  const volume = join(dir, options.layout === 'bare' ? 'img.raw' : 'volume.raw');
  await sizeFile(volume, VOLUME_BYTES);
  const start = options.layout === 'bare' ? 0 : PARTITION_OFFSET / 512;
  await run('mkntfs', ['-F', '-Q', '-q', '-p', String(start), '-L', options.label ?? 'Windows', volume]);
  if (options.seed) await withSeedMount(volume, join(dir, 'mnt'), options.seed);
  if (options.layout === 'bare')
    return { imagePath: volume, dir, offsetBytes: 0, cleanup: () => rm(dir, { recursive: true, force: true }) };
  const imagePath = join(dir, 'img.raw');
  await sizeFile(imagePath, DISK_BYTES);
  await run('sfdisk', ['-q', imagePath], TABLES[options.layout]);
  await copyInto(volume, imagePath, PARTITION_OFFSET);
  await rm(volume);
  return { imagePath, dir, offsetBytes: PARTITION_OFFSET, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Mounts `volume` with ntfs-3g in the foreground, lets `seed` fill it, and waits for ntfs-3g to exit. */
async function withSeedMount(volume: string, mountPoint: string, seed: (root: string) => Promise<void>) {
  await mkdir(mountPoint);
  const child = spawn('ntfs-3g', ['-o', 'permissions,no_detach', volume, mountPoint], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('ntfs-3g is needed by this test but is not installed: apt-get install ntfs-3g')
          : e,
      ),
    );
    child.once('exit', resolve);
  });
  try {
    for (let i = 0; !(await run('findmnt', ['-n', '-o', 'TARGET', mountPoint]).catch(() => '')); i++) {
      if (i > 2000) throw new Error(`ntfs-3g did not mount ${volume}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await seed(mountPoint);
  } finally {
    await run('umount', [mountPoint]).catch(() => child.kill());
    await exited;
  }
}

async function copyInto(source: string, target: string, offset: number): Promise<void> {
  const from = await open(source, 'r');
  const to = await open(target, 'r+');
  try {
    const buffer = Buffer.alloc(MIB);
    for (let at = 0; ; at += MIB) {
      const { bytesRead } = await from.read(buffer, 0, MIB, at);
      if (bytesRead === 0) break;
      await to.write(buffer, 0, bytesRead, offset + at);
    }
  } finally {
    await from.close();
    await to.close();
  }
}

/** A file's content read with ntfscat (ntfsprogs), not through the driver: for a partition, at its byte range. */
export async function ntfscat(image: TestImage, fsPath: string): Promise<Buffer> {
  const volume = image.offsetBytes === 0 ? image.imagePath : await extract(image);
  return new Promise((resolve, reject) => {
    const child = spawn('ntfscat', [volume, fsPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ntfscat: ${err}`))));
  });
}

/** A copy of the partition's bytes, since ntfscat takes no offset. */
async function extract(image: TestImage): Promise<string> {
  const copy = join(image.dir, 'partition-copy.raw');
  await rm(copy, { force: true });
  await run('dd', [
    `if=${image.imagePath}`,
    `of=${copy}`,
    'bs=1M',
    `skip=${image.offsetBytes / MIB}`,
    `count=${VOLUME_BYTES / MIB}`,
    'status=none',
  ]);
  return copy;
}
