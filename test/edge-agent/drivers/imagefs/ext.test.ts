import { createHash, randomBytes } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtImageFilesystem } from '../../../../edge-agent/drivers/imagefs/ext';
import { describeImageFilesystemConformance, writeSeedTree } from './imagefs.case';
import {
  type ExtType,
  fsck,
  type Layout,
  makeExtImage,
  PARTITION_OFFSET,
  run,
  sizeFile,
  type TestImage,
  tempDir,
} from './images';

const fs = new ExtImageFilesystem();
const layouts: [string, Layout, ExtType][] = [
  ['bare ext4', 'bare', 'ext4'],
  ['bare ext3', 'bare', 'ext3'],
  ['bare ext2', 'bare', 'ext2'],
  ['ext4 in partition 2 of an MBR disk', 'mbr', 'ext4'],
  ['ext4 in partition 2 of a GPT disk', 'gpt', 'ext4'],
];

for (const [name, layout, fsType] of layouts) {
  describeImageFilesystemConformance(`ext, ${name}`, async () => {
    const image = await makeExtImage({ layout, fsType, seed: writeSeedTree });
    return { fs, imagePath: image.imagePath, cleanup: image.cleanup };
  });
}

describe('ExtImageFilesystem', () => {
  const images: TestImage[] = [];
  const dirs: string[] = [];
  const make = async (...args: Parameters<typeof makeExtImage>) => {
    const image = await makeExtImage(...args);
    images.push(image);
    return image;
  };
  const scratchDir = async () => {
    const dir = await tempDir('encompass-imagefs-');
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(images.splice(0).map((image) => image.cleanup()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('is named ext', () => {
    expect(fs.name).toBe('ext');
  });

  it.each(['ext2', 'ext3', 'ext4'] as const)('detects a bare %s filesystem with its label and UUID', async (fsType) => {
    const uuid = '3f1c9a52-7d0e-4b8a-9c61-2a5e8f0d4b17';
    const image = await make({ layout: 'bare', fsType, label: 'rootfs', uuid });
    expect(await fs.detect(image.imagePath)).toEqual({ type: fsType, offsetBytes: 0, label: 'rootfs', uuid });
  });

  it.each(['mbr', 'gpt'] as const)(
    'detects the first ext partition of a %s disk, past a partition without one',
    async (layout) => {
      const image = await make({ layout, fsType: 'ext4', label: 'root' });
      expect(await fs.detect(image.imagePath)).toMatchObject({
        type: 'ext4',
        offsetBytes: PARTITION_OFFSET,
        partition: 2,
        label: 'root',
      });
    },
  );

  it('detects ext in a logical partition of an MBR extended partition', async () => {
    const dir = await scratchDir();
    const imagePath = join(dir, 'disk.raw');
    await sizeFile(imagePath, 40 * 1024 * 1024);
    await run(
      'sfdisk',
      ['-q', imagePath],
      'label: dos\nstart=2048, size=4096, type=c\nstart=8192, type=5\nstart=10240, size=61440, type=83\n',
    );
    await run('mkfs.ext4', ['-q', '-F', '-E', `offset=${10240 * 512}`, imagePath, '30M']);
    expect(await fs.detect(imagePath)).toMatchObject({ type: 'ext4', offsetBytes: 10240 * 512, partition: 5 });
  });

  it('finds no volume in a qcow2 file, random bytes, an NTFS boot sector, an empty file or a disk without ext', async () => {
    const dir = await scratchDir();
    const qcow2 = Buffer.alloc(64 * 1024);
    qcow2.write('QFI\xfb', 0, 'latin1');
    qcow2.writeUInt32BE(3, 4);
    const ntfs = Buffer.alloc(64 * 1024);
    ntfs.write('\xebR\x90NTFS    ', 0, 'latin1');
    ntfs.writeUInt16LE(0xaa55, 510);
    const files: Record<string, Buffer> = { qcow2, random: randomBytes(2 * 1024 * 1024), ntfs, empty: Buffer.alloc(0) };
    for (const [name, bytes] of Object.entries(files)) {
      await writeFile(join(dir, name), bytes);
      expect(await fs.detect(join(dir, name)), name).toBeNull();
    }
    const disk = join(dir, 'no-ext.raw');
    await sizeFile(disk, 8 * 1024 * 1024);
    await run('sfdisk', ['-q', disk], 'label: gpt\nstart=2048, type=L\n');
    expect(await fs.detect(disk)).toBeNull();
  });

  it('says so when the image cannot be read', async () => {
    await expect(fs.detect('/nonexistent/encompass/image.raw')).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it.each(['bare', 'mbr', 'gpt'] as const)(
    'leaves a %s filesystem consistent for e2fsck after edits',
    async (layout) => {
      const image = await make({ layout, seed: writeSeedTree });
      const volume = (await fs.detect(image.imagePath))!;
      await fs.writeFile(image.imagePath, volume, '/etc/hostname', Buffer.from('edited\n'));
      await fs.writeFile(image.imagePath, volume, '/etc/large.bin', randomBytes(200 * 1024), 0o600);
      await fs.writeFile(image.imagePath, volume, '/etc/large.bin', Buffer.from('small now'));
      await fs.removeFile(image.imagePath, volume, '/etc/shadow');
      await expect(fsck(image.imagePath, image.offsetBytes)).resolves.toContain('files');
    },
  );

  it('changes nothing outside the partition it edits', async () => {
    const image = await make({ layout: 'mbr', seed: writeSeedTree });
    const volume = (await fs.detect(image.imagePath))!;
    const outside = async () => {
      const bytes = await readFile(image.imagePath);
      const end = PARTITION_OFFSET + 30 * 1024 * 1024;
      return sha256(Buffer.concat([bytes.subarray(0, PARTITION_OFFSET), bytes.subarray(end)]));
    };
    const before = await outside();
    await fs.writeFile(image.imagePath, volume, '/etc/hostname', Buffer.from('edited\n'));
    expect(await outside()).toBe(before);
  });

  it('keeps the owner of a replaced file, and gives a new file to root', async () => {
    const image = await make({ layout: 'bare', seed: writeSeedTree });
    const volume = (await fs.detect(image.imagePath))!;
    await run('debugfs', ['-w', '-f', '-', image.imagePath], 'sif /etc/hosts uid 1000\nsif /etc/hosts gid 1001\n');
    await fs.writeFile(image.imagePath, volume, '/etc/hosts', Buffer.from('replaced\n'));
    await fs.writeFile(image.imagePath, volume, '/etc/new.conf', Buffer.from('new\n'));
    expect(await run('debugfs', ['-R', 'stat /etc/hosts', image.imagePath])).toMatch(/User:\s+1000\s+Group:\s+1001/);
    expect(await run('debugfs', ['-R', 'stat /etc/new.conf', image.imagePath])).toMatch(/User:\s+0\s+Group:\s+0/);
  });

  it('refuses a volume that is not ext, and an offset where no ext filesystem starts', async () => {
    const image = await make({ layout: 'bare' });
    await expect(fs.readFile(image.imagePath, { type: 'ntfs', offsetBytes: 0 }, '/x')).rejects.toMatchObject({
      code: 'unsupported_image',
    });
    await expect(fs.readFile(image.imagePath, { type: 'ext4', offsetBytes: 4096 }, '/x')).rejects.toMatchObject({
      code: 'unsupported_image',
    });
  });

  it('refuses to change a filesystem whose journal needs recovery, but still reads it', async () => {
    const image = await make({ layout: 'bare', seed: writeSeedTree });
    const volume = (await fs.detect(image.imagePath))!;
    await run('debugfs', ['-w', '-R', 'feature needs_recovery', image.imagePath]);
    await expect(fs.writeFile(image.imagePath, volume, '/etc/hostname', Buffer.from('x'))).rejects.toMatchObject({
      code: 'unsupported_image',
    });
    expect((await fs.readFile(image.imagePath, volume, '/etc/hostname'))?.toString()).toBe('seed-host\n');
  });

  it("refuses an image whose path holds '?', which e2fsprogs would read as options", async () => {
    const image = await make({ layout: 'bare' });
    const odd = join(image.dir, 'odd?name.raw');
    await copyFile(image.imagePath, odd);
    const volume = (await fs.detect(odd))!;
    await expect(fs.readFile(odd, volume, '/etc/hostname')).rejects.toMatchObject({ code: 'unsupported_image' });
  });
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
