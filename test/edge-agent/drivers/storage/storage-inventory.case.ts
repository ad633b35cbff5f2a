/**
 * What every StorageDriver does to tell its own images from others' and to account for what a
 * repository holds: owners, `list`, and `cleanupTemp` with claims. Part of storage.case.ts.
 */
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exists, findTemps, MiB, makeQcow2, makeSparseImage, sha256OfFile } from './images';
import { expectCode, type Suite } from './storage.case';

export function describeInventory(suite: Suite): void {
  const { inRepo } = suite;
  const the = () => suite.fixture;

  describe('owner', () => {
    it('notes the operation that made a clone, and replaces an image that same operation left behind', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('masters/m.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      await driver.clone(repo, 'masters/m.img', 'clones/c.img', 'copy', { owner: 'op-first' });
      expect(await driver.owner(repo, 'clones/c.img')).toBe('op-first');
      // The run was interrupted after the rename: the same operation makes the clone again, over it.
      await fs.appendFile(inRepo('clones/c.img'), Buffer.alloc(512, 9));
      const again = await driver.clone(repo, 'masters/m.img', 'clones/c.img', 'copy', { owner: 'op-first' });
      expect(again.sha256).toBe(await sha256OfFile(inRepo('masters/m.img')));
      expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(again.sha256);
      expect(await findTemps(repo.path)).toEqual([]);
    });

    it("refuses to make an image over another operation's, or over one nobody noted, and leaves it as it was", async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('masters/m.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      await driver.clone(repo, 'masters/m.img', 'clones/c.img', 'copy', { owner: 'op-first' });
      await fs.writeFile(inRepo('clones/plain.img'), Buffer.alloc(4096, 7));
      for (const name of ['clones/c.img', 'clones/plain.img']) {
        const before = await sha256OfFile(inRepo(name));
        const clone = driver.clone(repo, 'masters/m.img', name, 'copy', { owner: 'op-second' });
        await expectCode(clone, 'ImageExistsError', 'image_exists');
        expect(await sha256OfFile(inRepo(name))).toBe(before);
      }
      expect(await driver.owner(repo, 'clones/c.img')).toBe('op-first');
      expect(await driver.owner(repo, 'clones/plain.img')).toBeUndefined();
    });

    it('notes the operation that received an image, which may receive it again; another may not', async () => {
      const { driver, repo } = the();
      const write = (byte: number) => async (partial: string) => fs.writeFile(partial, Buffer.alloc(MiB, byte));
      await driver.receive(repo, 'masters/up.img', write(1), { owner: 'op-up' });
      expect(await driver.owner(repo, 'masters/up.img')).toBe('op-up');
      await driver.receive(repo, 'masters/up.img', write(2), { owner: 'op-up' });
      expect(await fs.readFile(inRepo('masters/up.img'))).toEqual(Buffer.alloc(MiB, 2));
      const other = driver.receive(repo, 'masters/up.img', write(3), { owner: 'op-other' });
      await expectCode(other, 'ImageExistsError', 'image_exists');
    });

    it('leaves no note behind when the clone it was for fails', async () => {
      const { driver, repo } = the();
      const clone = driver.clone(repo, 'masters/none.img', 'clones/x.img', 'copy', { owner: 'op-x' });
      await expectCode(clone, 'ImageNotFoundError', 'image_not_found');
      expect(await exists(inRepo('clones/x.img.encompass'))).toBe(false);
    });
  });

  describe('list', () => {
    it('lists image files with size, allocation, a format guess and mtime, and none of its own leftovers', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('masters/m.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      await fs.mkdir(inRepo('clones'), { recursive: true });
      makeQcow2(inRepo('clones/q.qcow2'), '16M');
      await fs.writeFile(inRepo('clones/odd.bin'), 'not sectors');
      await fs.mkdir(inRepo('a/b/c'), { recursive: true });
      await fs.writeFile(inRepo('a/b/c/deep.img'), Buffer.alloc(1024));
      await fs.writeFile(inRepo('clones/.encompass-tmp-abc-x.img'), 'half');
      await fs.writeFile(inRepo('masters/.encompass-partial-up.img'), 'half');
      await fs.mkdir(inRepo('masters/m.img.encompass/undo'), { recursive: true });
      await fs.writeFile(inRepo('masters/m.img.encompass/undo/item-0.json'), '{}');
      await fs.symlink('/etc/hostname', inRepo('link.img'));
      const listed = await driver.list(repo);
      expect(listed.map((i) => [i.path, i.format])).toEqual([
        ['a/b/c/deep.img', 'raw'],
        ['clones/odd.bin', 'unknown'],
        ['clones/q.qcow2', 'qcow2'],
        ['masters/m.img', 'raw'],
      ]);
      const m = listed.find((i) => i.path === 'masters/m.img')!;
      const st = await fs.stat(inRepo('masters/m.img'));
      expect(m).toMatchObject({
        sizeBytes: 4 * MiB,
        allocatedBytes: st.blocks * 512,
        modifiedAt: st.mtime.toISOString(),
      });
    });

    it('lists an empty repository as empty, and an unreachable one as unavailable', async () => {
      const { driver, repo } = the();
      expect(await driver.list(repo)).toEqual([]);
      await expectCode(
        driver.list({ ...repo, path: `${repo.path}/none` }),
        'RepositoryUnavailableError',
        'repository_unavailable',
      );
    });
  });

  describe('cleanupTemp with claims', () => {
    const plant = async () => {
      await makeSparseImage(inRepo('masters/m.img'), MiB, []);
      await fs.writeFile(inRepo('masters/.encompass-partial-gone.img'), 'half an upload nobody waits for');
      await fs.writeFile(inRepo('masters/.encompass-partial-wanted.img'), 'half an upload still importing');
      await fs.mkdir(inRepo('clones/lost.img.encompass'), { recursive: true });
      await fs.mkdir(inRepo('clones/coming.img.encompass'), { recursive: true });
      await fs.mkdir(inRepo('masters/m.img.encompass'), { recursive: true });
      await fs.writeFile(inRepo('clones/.encompass-tmp-abc-lost.img'), 'half a copy');
    };

    it('removes unclaimed partials and sidecars of images that are gone, besides temp files', async () => {
      const { driver, repo } = the();
      await plant();
      const claimed = (image: string) => image === 'masters/wanted.img' || image === 'clones/coming.img';
      const removed = await driver.cleanupTemp(repo, { claimed });
      expect(removed.sort()).toEqual(
        [
          inRepo('clones/.encompass-tmp-abc-lost.img'),
          inRepo('clones/lost.img.encompass'),
          inRepo('masters/.encompass-partial-gone.img'),
        ].sort(),
      );
      for (const kept of [
        'masters/.encompass-partial-wanted.img',
        'clones/coming.img.encompass',
        'masters/m.img.encompass',
        'masters/m.img',
      ])
        expect(await exists(inRepo(kept)), kept).toBe(true);
    });

    it('keeps partials and sidecars without claims, as at agent start', async () => {
      const { driver, repo } = the();
      await plant();
      expect(await driver.cleanupTemp(repo)).toEqual([inRepo('clones/.encompass-tmp-abc-lost.img')]);
    });

    it('never removes the temp file of a clone being made right now', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('masters/m.img'), 64 * MiB, [{ offset: 0, length: 64 * MiB }]);
      let removedMidway: string[] = [];
      let tempsMidway: string[] = [];
      let cleaning: Promise<void> | undefined;
      await driver.clone(repo, 'masters/m.img', 'clones/busy.img', 'copy', {
        onProgress: (done) => {
          if (done > 0 && !cleaning)
            cleaning = (async () => {
              tempsMidway = await findTemps(repo.path);
              removedMidway = await driver.cleanupTemp(repo, { claimed: () => false });
            })();
        },
      });
      await cleaning;
      expect(tempsMidway).toHaveLength(1);
      expect(removedMidway).toEqual([]);
      expect(await sha256OfFile(inRepo('clones/busy.img'))).toBe(await sha256OfFile(inRepo('masters/m.img')));
    });
  });
}
