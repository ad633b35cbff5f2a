import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPartitionTable } from '../../../../edge-agent/drivers/imagefs/partitions';
import { makeExtImage, run, sizeFile, tempDir } from './images';

const MIB = 1024 * 1024;
const LINUX_FS_GUID = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const EFI_SYSTEM_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

describe('readPartitionTable', () => {
  let dir: string;
  let disk: string;
  beforeEach(async () => {
    dir = await tempDir('encompass-partitions-');
    disk = join(dir, 'disk.raw');
    await sizeFile(disk, 40 * MIB);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('lists MBR primary partitions with byte offsets, sizes and types', async () => {
    await run('sfdisk', ['-q', disk], 'label: dos\nstart=2048, size=4096, type=c\nstart=8192, size=16384, type=83\n');
    expect(await readPartitionTable(disk)).toEqual({
      scheme: 'mbr',
      partitions: [
        { number: 1, offsetBytes: MIB, sizeBytes: 2 * MIB, type: '0c' },
        { number: 2, offsetBytes: 4 * MIB, sizeBytes: 8 * MIB, type: '83' },
      ],
    });
  });

  it('numbers logical partitions of an extended partition from 5, as Linux does', async () => {
    await run(
      'sfdisk',
      ['-q', disk],
      'label: dos\nstart=2048, size=4096, type=83\nstart=8192, type=5\nstart=10240, size=4096, type=83\nstart=16384, size=4096, type=82\n',
    );
    const table = await readPartitionTable(disk);
    expect(table.partitions.map((p) => [p.number, p.offsetBytes, p.type])).toEqual([
      [1, MIB, '83'],
      [5, 10240 * 512, '83'],
      [6, 16384 * 512, '82'],
    ]);
  });

  it('reads GPT behind a protective MBR, skipping unused entries', async () => {
    await run('sfdisk', ['-q', disk], 'label: gpt\nstart=2048, size=4096, type=U\nstart=10240, size=8192, type=L\n');
    expect(await readPartitionTable(disk)).toEqual({
      scheme: 'gpt',
      partitions: [
        { number: 1, offsetBytes: MIB, sizeBytes: 2 * MIB, type: EFI_SYSTEM_GUID },
        { number: 2, offsetBytes: 5 * MIB, sizeBytes: 4 * MIB, type: LINUX_FS_GUID },
      ],
    });
  });

  it('falls back to the backup GPT header when the primary one is damaged', async () => {
    await run('sfdisk', ['-q', disk], 'label: gpt\nstart=2048, size=4096, type=L\n');
    const file = await open(disk, 'r+');
    await file.write(Buffer.alloc(512), 0, 512, 512);
    await file.close();
    expect((await readPartitionTable(disk)).partitions).toEqual([
      { number: 1, offsetBytes: MIB, sizeBytes: 2 * MIB, type: LINUX_FS_GUID },
    ]);
  });

  it('reports no table for a bare filesystem or a blank file', async () => {
    const image = await makeExtImage({ layout: 'bare' });
    try {
      expect(await readPartitionTable(image.imagePath)).toEqual({ scheme: 'none', partitions: [] });
    } finally {
      await image.cleanup();
    }
    expect(await readPartitionTable(disk)).toEqual({ scheme: 'none', partitions: [] });
  });
});
