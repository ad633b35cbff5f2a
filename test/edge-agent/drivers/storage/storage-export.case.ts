/** What every StorageDriver promises when it lets machines reach an image: part of storage.case.ts. */
import { describe, expect, it } from 'vitest';
import { MiB, makeQcow2, makeSparseImage, sha256OfFile } from './images';
import { expectCode, type Suite } from './storage.case';

const ALICE = { machine: 'alice', initiatorName: 'iqn.2026-11.io.example:alice' };
const BOB = { machine: 'bob', initiatorName: 'iqn.2026-11.io.example:bob' };
const MALLORY = { machine: 'mallory', initiatorName: 'iqn.2026-11.io.example:mallory' };
const IMAGE = 'clones/a/disk.img';

export function describeExports(suite: Suite): void {
  const { inRepo } = suite;
  const the = () => suite.fixture;
  const makeImage = () => makeSparseImage(inRepo(IMAGE), 4 * MiB, [{ offset: 0, length: MiB }]);

  describe('export', () => {
    it("gives a raw disk of its kind through which the machine reads the image's bytes", async () => {
      const { driver, repo, readDisk, diskKind } = the();
      await makeImage();
      const disk = await driver.export(repo, IMAGE, ALICE);
      expect(disk).toMatchObject({ kind: diskKind, format: 'raw' });
      expect(await readDisk(disk, ALICE)).toBe(await sha256OfFile(inRepo(IMAGE)));
    });

    it('gives the same disk when asked again, granting nothing more', async () => {
      const { driver, repo, grants } = the();
      await makeImage();
      const first = await driver.export(repo, IMAGE, ALICE);
      const granted = await grants();
      expect(await driver.export(repo, IMAGE, ALICE)).toEqual(first);
      expect(await grants()).toEqual(granted);
    });

    it('lets another machine read the disk only where the backend does not guard exports', async () => {
      const { driver, repo, readDisk, guarded } = the();
      await makeImage();
      const disk = await driver.export(repo, IMAGE, ALICE);
      expect((await readDisk(disk, MALLORY)) === null).toBe(guarded);
    });

    it('needs an initiator name where it guards exports, saying to set identity.initiatorName, and grants nothing then', async () => {
      const { driver, repo, readDisk, grants, guarded } = the();
      await makeImage();
      const exporting = driver.export(repo, IMAGE, { machine: 'm7' });
      if (guarded) {
        const err = await exporting.catch((e) => e);
        expect(err).toMatchObject({
          name: 'InitiatorNameRequiredError',
          code: 'initiator_name_required',
          machine: 'm7',
        });
        expect(err.message).toContain('identity.initiatorName');
        expect(await grants()).toEqual([]);
      } else expect(await readDisk(await exporting, { machine: 'm7' })).toBe(await sha256OfFile(inRepo(IMAGE)));
    });

    it('reports a missing image as not found and grants nothing', async () => {
      const { driver, repo, grants } = the();
      await expectCode(driver.export(repo, 'clones/none.img', ALICE), 'ImageNotFoundError', 'image_not_found');
      expect(await grants()).toEqual([]);
    });

    it('exports a qcow2 image as a qcow2 file disk, and refuses it as a LUN, which serves raw bytes', async () => {
      const { driver, repo, grants, diskKind } = the();
      await makeSparseImage(inRepo(IMAGE), MiB, []);
      makeQcow2(inRepo('clones/q.qcow2'), '4M');
      const exporting = driver.export(repo, 'clones/q.qcow2', ALICE);
      if (diskKind === 'iscsi') {
        await expect(exporting).rejects.toMatchObject({ name: 'LunNeedsRawImageError', code: 'lun_needs_raw' });
        expect(await grants()).toEqual([]);
      } else expect(await exporting).toEqual({ kind: 'file', path: inRepo('clones/q.qcow2'), format: 'qcow2' });
    });
  });

  describe('unexport', () => {
    it('takes back what export allowed, where the backend guards exports; again is a no-op', async () => {
      const { driver, repo, readDisk, grants, guarded } = the();
      await makeImage();
      const sha = await sha256OfFile(inRepo(IMAGE));
      const disk = await driver.export(repo, IMAGE, ALICE);
      await driver.unexport(repo, IMAGE, ALICE);
      expect((await readDisk(disk, ALICE)) === null).toBe(guarded);
      expect(await grants()).toEqual([]);
      await expect(driver.unexport(repo, IMAGE, ALICE)).resolves.toBeUndefined();
      expect(await sha256OfFile(inRepo(IMAGE))).toBe(sha);
    });

    it("keeps another machine's export, and grants nothing once both are unexported", async () => {
      const { driver, repo, readDisk, grants, guarded } = the();
      await makeImage();
      const sha = await sha256OfFile(inRepo(IMAGE));
      const disk = await driver.export(repo, IMAGE, ALICE);
      await driver.export(repo, IMAGE, BOB);
      await driver.unexport(repo, IMAGE, ALICE);
      expect(await readDisk(disk, BOB)).toBe(sha);
      expect((await readDisk(disk, ALICE)) === null).toBe(guarded);
      await driver.unexport(repo, IMAGE, BOB);
      expect(await grants()).toEqual([]);
    });

    it('treats an image never exported, or not there at all, as done', async () => {
      const { driver, repo } = the();
      await makeImage();
      await expect(driver.unexport(repo, IMAGE, ALICE)).resolves.toBeUndefined();
      await expect(driver.unexport(repo, 'clones/none.img', ALICE)).resolves.toBeUndefined();
    });
  });
}
