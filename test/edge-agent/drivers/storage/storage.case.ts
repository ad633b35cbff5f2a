/**
 * Behaviour every StorageDriver shares, run against real images in a real repository directory: this
 * file (naming, reading and cloning images), storage-place.case.ts (receiving, capturing, removing),
 * storage-inventory.case.ts (owners, listing, cleaning up) and storage-export.case.ts (letting machines
 * reach images).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiskRef } from '../../../../edge-agent/drivers/disk';
import type { Access, RepositoryRef, StorageDriver } from '../../../../edge-agent/drivers/storage/interface';
import {
  allocatedBytes,
  exists,
  findTemps,
  MiB,
  makeQcow2,
  makeSparseImage,
  SPARSE_64M_REGIONS,
  sameDiskContent,
  sha256OfFile,
} from './images';
import { describeExports } from './storage-export.case';
import { describeInventory } from './storage-inventory.case';
import { describePlacing } from './storage-place.case';

export interface StorageFixture {
  driver: StorageDriver;
  repo: RepositoryRef;
  /**
   * Whether the backend lets in only the machines an image is exported to, by initiator name (an iSCSI
   * ACL). A file repository is not guarded: its images are reached by path, by anyone on the host.
   */
  guarded: boolean;
  /** The kind of disk `export` gives. */
  diskKind: DiskRef['kind'];
  /** sha256 of the whole disk as machine `who` reads it through `disk`, or null when `who` is refused. */
  readDisk(disk: DiskRef, who: Access): Promise<string | null>;
  /** What the backend grants right now (iSCSI: its targets), for checking that nothing is left granted. */
  grants(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** The fixture of the running test, and a path inside its repository. */
export interface Suite {
  readonly fixture: StorageFixture;
  inRepo(rel: string): string;
}

export async function expectCode(promise: Promise<unknown>, name: string, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name, code });
}

export function describeStorageConformance(name: string, makeRepo: () => Promise<StorageFixture>): void {
  describe(`storage driver ${name}`, () => {
    let driver: StorageDriver;
    let repo: RepositoryRef;
    let fixture: StorageFixture;
    const inRepo = (rel: string) => path.join(repo.path, rel);
    const suite: Suite = {
      get fixture() {
        return fixture;
      },
      inRepo,
    };

    beforeEach(async () => {
      fixture = await makeRepo();
      ({ driver, repo } = fixture);
    });
    afterEach(async () => fixture.cleanup());

    describe('resolve', () => {
      it('gives the absolute path of a name inside the repository', async () => {
        expect(await driver.resolve(repo, 'masters/ubuntu.img')).toBe(inRepo('masters/ubuntu.img'));
      });

      it.each(['../x', 'a/../../x', '/etc/passwd', '', 'a\0b'])('refuses %j as a path escape', async (rel) => {
        await expectCode(driver.resolve(repo, rel), 'PathEscapeError', 'path_escape');
      });

      it('refuses a symlink that points outside the repository', async () => {
        await fs.symlink('/etc/passwd', inRepo('passwd.img'));
        await fs.symlink(os.tmpdir(), inRepo('elsewhere'));
        await fs.symlink('/nonexistent-encompass-target', inRepo('dangling.img'));
        await expectCode(driver.resolve(repo, 'passwd.img'), 'PathEscapeError', 'path_escape');
        await expectCode(driver.resolve(repo, 'elsewhere/new.img'), 'PathEscapeError', 'path_escape');
        await expectCode(driver.resolve(repo, 'dangling.img'), 'PathEscapeError', 'path_escape');
      });

      it('accepts a symlink that stays inside the repository', async () => {
        await makeSparseImage(inRepo('real/a.img'), MiB, []);
        await fs.symlink('real', inRepo('alias'));
        expect(await driver.resolve(repo, 'alias/a.img', true)).toBe(inRepo('alias/a.img'));
      });

      it('reports a missing image, or a directory, as not found when it must exist', async () => {
        await fs.mkdir(inRepo('dir.img'));
        await expectCode(driver.resolve(repo, 'missing.img', true), 'ImageNotFoundError', 'image_not_found');
        await expectCode(driver.resolve(repo, 'dir.img', true), 'ImageNotFoundError', 'image_not_found');
      });
    });

    describe('exists', () => {
      it('says whether an image file is at a name: not for a missing one or a directory', async () => {
        await makeSparseImage(inRepo('a/b.img'), MiB, []);
        await fs.mkdir(inRepo('dir.img'));
        expect(await driver.exists(repo, 'a/b.img')).toBe(true);
        expect(await driver.exists(repo, 'a/missing.img')).toBe(false);
        expect(await driver.exists(repo, 'nowhere/missing.img')).toBe(false);
        expect(await driver.exists(repo, 'dir.img')).toBe(false);
      });

      it('refuses a name outside the repository as a path escape', async () => {
        await expectCode(driver.exists(repo, '../x.img'), 'PathEscapeError', 'path_escape');
      });
    });

    describe('sidecar', () => {
      it('names the <image>.encompass directory beside the image, without making it', async () => {
        expect(await driver.sidecar(repo, 'clones/c.img')).toBe(inRepo('clones/c.img.encompass'));
        expect(await exists(inRepo('clones'))).toBe(false);
        await expectCode(driver.sidecar(repo, '../c.img'), 'PathEscapeError', 'path_escape');
      });
    });

    describe('inspect', () => {
      it('reports size, allocation, sha256 and raw format of a sparse image, with progress up to the total', async () => {
        await makeSparseImage(inRepo('sparse.img'), 64 * MiB, SPARSE_64M_REGIONS);
        const progress: Array<[number, number]> = [];
        const info = await driver.inspect(repo, 'sparse.img', { onProgress: (d, t) => progress.push([d, t]) });
        expect(info).toMatchObject({
          sizeBytes: 64 * MiB,
          format: 'raw',
          sha256: await sha256OfFile(inRepo('sparse.img')),
        });
        expect(info.allocatedBytes).toBeGreaterThanOrEqual(8 * MiB);
        expect(info.allocatedBytes).toBeLessThan(9 * MiB);
        expect(progress.at(-1)).toEqual([64 * MiB, 64 * MiB]);
      });

      it('recognises a qcow2 image', async () => {
        makeQcow2(inRepo('disk.qcow2'), '64M');
        expect((await driver.inspect(repo, 'disk.qcow2')).format).toBe('qcow2');
      });

      it('calls a qcow2 with a garbled header corrupt', async () => {
        makeQcow2(inRepo('bad.qcow2'), '64M');
        const fh = await fs.open(inRepo('bad.qcow2'), 'r+');
        await fh.write(Buffer.alloc(16, 0xff), 0, 16, 8); // backing file offset and cluster bits
        await fh.close();
        await expectCode(driver.inspect(repo, 'bad.qcow2'), 'CorruptImageError', 'corrupt_image');
      });

      it('calls an empty file or a raw file of partial sectors corrupt', async () => {
        await fs.writeFile(inRepo('empty.img'), '');
        await fs.writeFile(inRepo('odd.img'), Buffer.alloc(1000, 1));
        await expectCode(driver.inspect(repo, 'empty.img'), 'CorruptImageError', 'corrupt_image');
        await expectCode(driver.inspect(repo, 'odd.img'), 'CorruptImageError', 'corrupt_image');
      });

      it('reports a missing image as not found', async () => {
        await expectCode(driver.inspect(repo, 'missing.img'), 'ImageNotFoundError', 'image_not_found');
      });
    });

    describe('clone', () => {
      beforeEach(async () => makeSparseImage(inRepo('masters/m.img'), 64 * MiB, SPARSE_64M_REGIONS));

      it('makes an identical, equally sparse copy with progress up to the total and no temp file left', async () => {
        const progress: Array<[number, number]> = [];
        const out = await driver.clone(repo, 'masters/m.img', 'clones/c1/disk.img', 'copy', {
          onProgress: (d, t) => progress.push([d, t]),
        });
        const masterAllocated = await allocatedBytes(inRepo('masters/m.img'));
        expect(out).toMatchObject({
          method: 'copy',
          format: 'raw',
          sizeBytes: 64 * MiB,
          sha256: await sha256OfFile(inRepo('masters/m.img')),
        });
        expect(await sha256OfFile(inRepo('clones/c1/disk.img'))).toBe(out.sha256);
        expect(out.allocatedBytes).toBe(await allocatedBytes(inRepo('clones/c1/disk.img')));
        expect(out.allocatedBytes).toBeLessThanOrEqual(masterAllocated * 1.05);
        expect(progress.at(-1)).toEqual([64 * MiB, 64 * MiB]);
        expect(await findTemps(repo.path)).toEqual([]);
      });

      it('keeps a qcow2 master a valid qcow2', async () => {
        makeQcow2(inRepo('masters/q.qcow2'), '64M');
        const out = await driver.clone(repo, 'masters/q.qcow2', 'q-clone.qcow2', 'copy');
        expect(out.format).toBe('qcow2');
        expect((await driver.inspect(repo, 'q-clone.qcow2')).sha256).toBe(out.sha256);
      });

      it('refuses to overwrite an existing image and leaves it untouched', async () => {
        await fs.writeFile(inRepo('taken.img'), Buffer.alloc(4096, 7));
        const before = await sha256OfFile(inRepo('taken.img'));
        await expectCode(driver.clone(repo, 'masters/m.img', 'taken.img', 'copy'), 'ImageExistsError', 'image_exists');
        expect(await sha256OfFile(inRepo('taken.img'))).toBe(before);
        expect(await findTemps(repo.path)).toEqual([]);
      });

      it('reports a missing master as not found and creates nothing', async () => {
        await expectCode(
          driver.clone(repo, 'masters/none.img', 'new/c.img', 'copy'),
          'ImageNotFoundError',
          'image_not_found',
        );
        expect(await exists(inRepo('new'))).toBe(false);
      });

      it('refuses a clone method the repository does not offer, naming the ones it does', async () => {
        const clone = driver.clone(repo, 'masters/m.img', 'c.img', 'teleport');
        await expect(clone).rejects.toMatchObject({
          name: 'UnsupportedMethodError',
          code: 'unsupported_method',
          supported: await driver.methods(repo),
        });
      });

      it('offers copy among its clone methods', async () => {
        expect(await driver.methods(repo)).toContain('copy');
      });

      it("makes, with every method it offers, a clone whose disk shows the master's bytes and whose sha256 is the master's", async () => {
        const masterSha = await sha256OfFile(inRepo('masters/m.img'));
        for (const method of await driver.methods(repo)) {
          const out = await driver.clone(repo, 'masters/m.img', `by-method/${method}.img`, method);
          expect(out).toMatchObject({ method, sha256: masterSha });
          expect(sameDiskContent(inRepo(`by-method/${method}.img`), inRepo('masters/m.img'))).toBe(true);
        }
        expect(await findTemps(repo.path)).toEqual([]);
      });

      it('reads auto as the fastest method it offers that makes a standalone raw image', async () => {
        const offered = await driver.methods(repo);
        const auto = await driver.chooseMethod(repo, 'auto');
        expect(offered).toContain(auto);
        for (const method of offered.slice(0, offered.indexOf(auto))) {
          const faster = await driver.clone(repo, 'masters/m.img', `faster/${method}`, method);
          expect(
            faster.backing,
            `${method} is faster than auto's ${auto}, so it must make a linked clone`,
          ).toBeDefined();
        }
        const out = await driver.clone(repo, 'masters/m.img', 'auto/c.img', auto);
        expect(out).toMatchObject({ method: auto, format: 'raw' });
        expect(out.backing).toBeUndefined();
      });

      it('gives a named method back as it is', async () => {
        for (const method of await driver.methods(repo)) expect(await driver.chooseMethod(repo, method)).toBe(method);
      });

      it('clones with the method chooseMethod reads auto as, and says which', async () => {
        const chosen = await driver.chooseMethod(repo, 'auto');
        const out = await driver.clone(repo, 'masters/m.img', 'auto/c.img', 'auto');
        expect(out.method).toBe(chosen);
        expect(sameDiskContent(inRepo('auto/c.img'), inRepo('masters/m.img'))).toBe(true);
      });

      it('names a clone .qcow2 when its method makes a linked clone and .img otherwise', async () => {
        for (const method of await driver.methods(repo)) {
          const name = driver.cloneName(`named/${method}`, method);
          const out = await driver.clone(repo, 'masters/m.img', name, method);
          expect(name).toBe(`named/${method}${out.backing ? '.qcow2' : '.img'}`);
          expect(out.format).toBe(out.backing ? 'qcow2' : 'raw');
        }
      });

      it('leaves nothing behind when aborted midway', async () => {
        const ctl = new AbortController();
        const clone = driver.clone(repo, 'masters/m.img', 'aborted/c.img', 'copy', {
          signal: ctl.signal,
          onProgress: (done) => done >= 8 * MiB && ctl.abort(),
        });
        await expectCode(clone, 'OperationAbortedError', 'aborted');
        expect(await exists(inRepo('aborted/c.img'))).toBe(false);
        expect(await findTemps(repo.path)).toEqual([]);
      });
    });

    describePlacing(suite);
    describeInventory(suite);
    describeExports(suite);
  });
}
