import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { NtfsImageFilesystem } from '../../../../edge-agent/drivers/imagefs/ntfs';
import { describeImageFilesystemConformance, writeSeedTree } from './imagefs.case';
import { type Layout, run, type TestImage } from './images';
import { makeNtfsImage, ntfscat } from './ntfs-images';

const fs = new NtfsImageFilesystem();
const layouts: [string, Layout][] = [
  ['bare NTFS', 'bare'],
  ['NTFS in partition 2 of an MBR disk', 'mbr'],
  ['NTFS in partition 2 of a GPT disk', 'gpt'],
];

for (const [name, layout] of layouts) {
  describeImageFilesystemConformance(`ntfs, ${name}`, async () => {
    const image = await makeNtfsImage({ layout, seed: writeSeedTree });
    return { fs, imagePath: image.imagePath, cleanup: image.cleanup };
  });
}

describe('NtfsImageFilesystem', () => {
  const images: TestImage[] = [];
  const make = async (...args: Parameters<typeof makeNtfsImage>) => {
    const image = await makeNtfsImage(...args);
    images.push(image);
    return image;
  };
  afterEach(async () => {
    await Promise.all(images.splice(0).map((image) => image.cleanup()));
  });

  it('is named ntfs', () => {
    expect(fs.name).toBe('ntfs');
  });

  it.each(['bare', 'mbr', 'gpt'] as const)(
    'detects NTFS by its boot sector (%s), with its serial as UUID',
    async (layout) => {
      const image = await make({ layout });
      const volume = await fs.detect(image.imagePath);
      expect(volume).toMatchObject({ type: 'ntfs', offsetBytes: image.offsetBytes });
      expect(volume?.uuid).toMatch(/^[0-9A-F]{16}$/);
      if (layout !== 'bare') expect(volume?.partition).toBe(2);
    },
  );

  it('writes a file that ntfscat reads back, in a partition at an offset', async () => {
    const image = await make({ layout: 'mbr', seed: writeSeedTree });
    const volume = (await fs.detect(image.imagePath))!;
    await fs.writeFile(image.imagePath, volume, '/etc/hostname', Buffer.from('win-01\n'));
    expect((await ntfscat(image, '/etc/hostname')).toString()).toBe('win-01\n');
  });

  it('leaves no mount and no loop device behind, also when a write is refused', async () => {
    const image = await make({ layout: 'gpt', seed: writeSeedTree });
    const volume = (await fs.detect(image.imagePath))!;
    await fs.readFiles(image.imagePath, volume, ['/etc/hosts']);
    await expect(
      fs.writeFiles(image.imagePath, volume, [{ path: '/etc/with space', content: Buffer.from('x'), mode: 0o644 }]),
    ).rejects.toMatchObject({ code: 'not_regular_file' });
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain('encompass-ntfs-');
    expect(await run('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'])).not.toContain(image.imagePath);
  });

  it('refuses a volume that holds no NTFS any more', async () => {
    const image = await make({ layout: 'bare' });
    const volume = (await fs.detect(image.imagePath))!;
    await expect(fs.readFile(image.imagePath, { ...volume, offsetBytes: 512 }, '/x')).rejects.toMatchObject({
      code: 'unsupported_image',
    });
  });
});
