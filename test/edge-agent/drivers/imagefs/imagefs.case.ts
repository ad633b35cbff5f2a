/**
 * What every ImageFilesystem driver does. The factory makes a fresh image whose volume holds the seed
 * tree written by `writeSeedTree` (files with the contents and modes of SEED_FILES, plus the empty
 * directory `/etc/with space` and the symbolic link `/etc/localtime` → /usr/share/zoneinfo/UTC).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageFilesystem, VolumeInfo } from '../../../../edge-agent/drivers/imagefs/interface';

export const SEED_FILES: Record<string, { content: string; mode: number }> = {
  '/etc/hostname': { content: 'seed-host\n', mode: 0o644 },
  '/etc/hosts': { content: '127.0.0.1\tlocalhost\n127.0.1.1\tseed-host\n', mode: 0o644 },
  '/etc/shadow': { content: 'root:*:19000:0:99999:7:::\n', mode: 0o640 },
  '/usr/local/bin/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o755 },
};

export async function writeSeedTree(root: string): Promise<void> {
  for (const [path, { content, mode }] of Object.entries(SEED_FILES)) {
    const local = join(root, path);
    await mkdir(dirname(local), { recursive: true });
    await writeFile(local, content);
    await chmod(local, mode);
  }
  await mkdir(join(root, 'etc/with space'));
  await symlink('/usr/share/zoneinfo/UTC', join(root, 'etc/localtime'));
  await chmod(join(root, 'etc'), 0o755);
}

export interface ImageUnderTest {
  fs: ImageFilesystem;
  imagePath: string;
  cleanup(): Promise<void>;
}

export function describeImageFilesystemConformance(name: string, makeImage: () => Promise<ImageUnderTest>): void {
  describe(`ImageFilesystem conformance: ${name}`, () => {
    let image: ImageUnderTest;
    let volume: VolumeInfo;
    let fs: ImageFilesystem;
    const read = (path: string) => fs.readFile(image.imagePath, volume, path);
    const write = (path: string, content: string | Buffer, mode?: number) =>
      fs.writeFile(image.imagePath, volume, path, Buffer.from(content), mode);
    const modeOf = (path: string) => fs.fileMode(image.imagePath, volume, path);

    beforeEach(async () => {
      image = await makeImage();
      fs = image.fs;
      const found = await fs.detect(image.imagePath);
      expect(found, 'detect() finds the volume of a fresh image').not.toBeNull();
      volume = found!;
    });
    afterEach(async () => image.cleanup());

    it('reads a file byte for byte', async () => {
      expect((await read('/etc/hosts'))?.toString()).toBe(SEED_FILES['/etc/hosts']!.content);
    });

    it('returns null for a missing file and for a file under a missing directory', async () => {
      expect(await read('/etc/missing')).toBeNull();
      expect(await read('/no/such/dir/file')).toBeNull();
      expect(await read('/etc/hostname/below-a-file')).toBeNull();
    });

    it('reports the permission bits of a file, and null for a missing one', async () => {
      expect(await modeOf('/etc/shadow')).toBe(0o640);
      expect(await modeOf('/usr/local/bin/tool')).toBe(0o755);
      expect(await modeOf('/etc/missing')).toBeNull();
    });

    it('reports the permission bits of a directory', async () => {
      expect(await modeOf('/etc')).toBe(0o755);
    });

    it('creates a new file with mode 0644 unless a mode is given', async () => {
      await write('/etc/new.conf', 'a=1\n');
      await write('/etc/secret.conf', 'b=2\n', 0o600);
      expect((await read('/etc/new.conf'))?.toString()).toBe('a=1\n');
      expect(await modeOf('/etc/new.conf')).toBe(0o644);
      expect((await read('/etc/secret.conf'))?.toString()).toBe('b=2\n');
      expect(await modeOf('/etc/secret.conf')).toBe(0o600);
    });

    it('replaces a file, keeping its mode when no mode is given', async () => {
      await write('/usr/local/bin/tool', '#!/bin/sh\necho a longer replacement script\n');
      expect((await read('/usr/local/bin/tool'))?.toString()).toBe('#!/bin/sh\necho a longer replacement script\n');
      expect(await modeOf('/usr/local/bin/tool')).toBe(0o755);
    });

    it('replaces a file with shorter or empty content, and changes its mode when one is given', async () => {
      await write('/etc/hosts', 'x');
      expect((await read('/etc/hosts'))?.toString()).toBe('x');
      await write('/etc/hosts', '', 0o600);
      expect(await read('/etc/hosts')).toEqual(Buffer.alloc(0));
      expect(await modeOf('/etc/hosts')).toBe(0o600);
    });

    it('round-trips binary content of every byte value and files spanning many blocks', async () => {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const large = randomBytes(300 * 1024);
      await write('/etc/bytes.bin', everyByte);
      await write('/etc/large.bin', large);
      expect(await read('/etc/bytes.bin')).toEqual(everyByte);
      expect((await read('/etc/large.bin'))?.equals(large)).toBe(true);
    });

    it('writes, reads and removes files whose paths hold spaces and double quotes', async () => {
      const path = '/etc/with space/a "quoted" name';
      await write(path, 'quoted\n');
      expect((await read(path))?.toString()).toBe('quoted\n');
      await fs.removeFile(image.imagePath, volume, path);
      expect(await read(path)).toBeNull();
    });

    it('refuses to write where the parent directory is missing, and creates nothing', async () => {
      await expect(write('/no/such/dir/file', 'x')).rejects.toMatchObject({ code: 'missing_directory' });
      await expect(write('/etc/hostname/below-a-file', 'x')).rejects.toMatchObject({ code: 'missing_directory' });
      expect(await read('/no/such/dir/file')).toBeNull();
    });

    it('refuses relative paths, dot components and line breaks in paths', async () => {
      for (const path of ['etc/hostname', '/etc/../etc/hostname', '/etc//hostname', '/etc/a\nb']) {
        await expect(write(path, 'x'), path).rejects.toMatchObject({ code: 'invalid_fs_path' });
        await expect(read(path), path).rejects.toMatchObject({ code: 'invalid_fs_path' });
      }
    });

    it('refuses to read, replace or remove a directory as if it were a file', async () => {
      await expect(read('/etc')).rejects.toMatchObject({ code: 'not_regular_file' });
      await expect(write('/etc/with space', 'x')).rejects.toMatchObject({ code: 'not_regular_file' });
      await expect(fs.removeFile(image.imagePath, volume, '/etc')).rejects.toMatchObject({ code: 'not_regular_file' });
    });

    it('refuses to follow a symbolic link, naming where it points, and leaves it as it was', async () => {
      for (const attempt of [
        () => read('/etc/localtime'),
        () => write('/etc/localtime', 'x'),
        () => fs.removeFile(image.imagePath, volume, '/etc/localtime'),
      ]) {
        const e = await attempt().then(
          () => undefined,
          (err: Error & { code?: string }) => err,
        );
        expect(e?.code).toBe('symlink_in_image');
        expect(e?.message).toContain('/usr/share/zoneinfo/UTC');
      }
      expect(await modeOf('/etc/localtime')).toBe(0o777);
    });

    it('refuses a mode outside the permission bits', async () => {
      await expect(write('/etc/new.conf', 'x', 0o100644)).rejects.toMatchObject({ code: 'invalid_mode' });
      expect(await read('/etc/new.conf')).toBeNull();
    });

    it('removes a file, and removing a missing file is not an error', async () => {
      await fs.removeFile(image.imagePath, volume, '/etc/hostname');
      expect(await read('/etc/hostname')).toBeNull();
      expect(await modeOf('/etc/hostname')).toBeNull();
      await fs.removeFile(image.imagePath, volume, '/etc/hostname');
    });

    it('reads many paths in one call: files with content, a directory, a link, and nothing', async () => {
      const found = await fs.readFiles(image.imagePath, volume, [
        '/etc/hosts',
        '/etc/shadow',
        '/etc',
        '/etc/localtime',
        '/etc/missing',
        '/etc/hostname/below-a-file',
      ]);
      expect(found.get('/etc/hosts')).toMatchObject({ type: 'regular', mode: 0o644, uid: 0, gid: 0 });
      expect(found.get('/etc/hosts')?.content?.toString()).toBe(SEED_FILES['/etc/hosts']!.content);
      expect(found.get('/etc/shadow')).toMatchObject({ type: 'regular', mode: 0o640 });
      expect(found.get('/etc')).toMatchObject({ type: 'directory', mode: 0o755 });
      expect(found.get('/etc')?.content).toBeUndefined();
      expect(found.get('/etc/localtime')).toMatchObject({ type: 'symlink' });
      expect(found.get('/etc/missing')).toBeNull();
      expect(found.get('/etc/hostname/below-a-file')).toBeNull();
    });

    it('writes, replaces and removes many files in one call, each as asked', async () => {
      const basis = await fs.readFiles(image.imagePath, volume, ['/etc', '/etc/hosts', '/etc/shadow', '/etc/new']);
      await fs.writeFiles(
        image.imagePath,
        volume,
        [
          { path: '/etc/hosts', content: Buffer.from('replaced\n'), mode: 0o600 },
          { path: '/etc/shadow', content: null },
          { path: '/etc/new', content: Buffer.from('new\n'), mode: 0o640 },
        ],
        basis,
      );
      const after = await fs.readFiles(image.imagePath, volume, ['/etc/hosts', '/etc/shadow', '/etc/new']);
      expect(after.get('/etc/hosts')?.content?.toString()).toBe('replaced\n');
      expect(after.get('/etc/hosts')?.mode).toBe(0o600);
      expect(after.get('/etc/shadow')).toBeNull();
      expect(after.get('/etc/new')).toMatchObject({ type: 'regular', mode: 0o640, uid: 0, gid: 0 });
    });

    it('reads for itself what a write is not given, and checks every change before making any', async () => {
      await fs.writeFiles(image.imagePath, volume, [{ path: '/etc/new', content: Buffer.from('x'), mode: 0o644 }]);
      expect((await read('/etc/new'))?.toString()).toBe('x');
      const refused = fs.writeFiles(image.imagePath, volume, [
        { path: '/etc/hostname', content: Buffer.from('changed\n'), mode: 0o644 },
        { path: '/no/such/dir/file', content: Buffer.from('x'), mode: 0o644 },
      ]);
      await expect(refused).rejects.toMatchObject({ code: 'missing_directory' });
      expect((await read('/etc/hostname'))?.toString()).toBe(SEED_FILES['/etc/hostname']!.content);
    });

    it('leaves every other file as it was', async () => {
      await write('/etc/hostname', 'changed\n');
      await write('/etc/new.conf', 'new\n');
      await fs.removeFile(image.imagePath, volume, '/etc/new.conf');
      for (const path of ['/etc/hosts', '/etc/shadow', '/usr/local/bin/tool']) {
        expect((await read(path))?.toString(), path).toBe(SEED_FILES[path]!.content);
        expect(await modeOf(path), path).toBe(SEED_FILES[path]!.mode);
      }
    });
  });
}
