/** What every StorageDriver does when images arrive, become masters and go: part of storage.case.ts. */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backingOf } from '../../../../edge-agent/drivers/storage/backing';
import { canFlatten } from '../../../../edge-agent/drivers/storage/interface';
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
  writeIntoDisk,
} from './images';
import { expectCode, type Suite } from './storage.case';

export function describePlacing(suite: Suite): void {
  const { inRepo } = suite;
  const the = () => suite.fixture;

  describe('receive', () => {
    it('hands the writer a partial file beside the image and renames it into place once written', async () => {
      const { driver, repo } = the();
      const seen: string[] = [];
      const out = await driver.receive(repo, 'masters/up.img', async (partial, target) => {
        seen.push(partial, target);
        await fs.writeFile(partial, Buffer.alloc(MiB, 3));
        return 'written';
      });
      expect(out).toBe('written');
      expect(seen).toEqual([inRepo('masters/.encompass-partial-up.img'), inRepo('masters/up.img')]);
      expect(await fs.readFile(inRepo('masters/up.img'))).toEqual(Buffer.alloc(MiB, 3));
      expect(await exists(seen[0]!)).toBe(false);
    });

    it('keeps the partial when the writer fails, even through cleanupTemp, and hands it to the next attempt', async () => {
      const { driver, repo } = the();
      const failed = driver.receive(repo, 'up.img', async (partial) => {
        await fs.writeFile(partial, 'first half ');
        throw new Error('connection dropped');
      });
      await expect(failed).rejects.toThrow('connection dropped');
      expect(await driver.exists(repo, 'up.img')).toBe(false);
      await driver.cleanupTemp(repo);
      await driver.receive(repo, 'up.img', async (partial) => {
        expect(await fs.readFile(partial, 'utf8')).toBe('first half ');
        await fs.appendFile(partial, 'second half');
      });
      expect(await fs.readFile(inRepo('up.img'), 'utf8')).toBe('first half second half');
    });

    it('refuses to receive over an existing image, without calling the writer', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('taken.img'), MiB, []);
      let called = false;
      const write = async () => {
        called = true;
      };
      await expectCode(driver.receive(repo, 'taken.img', write), 'ImageExistsError', 'image_exists');
      expect(called).toBe(false);
    });
  });

  describe('capture', () => {
    const withSidecar = async (rel: string) => {
      const undo = path.join(await the().driver.sidecar(the().repo, rel), 'undo');
      await fs.mkdir(undo, { recursive: true });
      await fs.writeFile(path.join(undo, 'item-0.json'), '{}');
    };

    it("moves a standalone clone to the master's name, and removes the clone and its sidecar", async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('clones/c.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      await withSidecar('clones/c.img');
      const sha = await sha256OfFile(inRepo('clones/c.img'));
      await driver.capture(repo, 'clones/c.img', 'masters/v2/disk.img');
      expect(await sha256OfFile(inRepo('masters/v2/disk.img'))).toBe(sha);
      expect(await exists(inRepo('clones/c.img'))).toBe(false);
      expect(await exists(inRepo('clones/c.img.encompass'))).toBe(false);
      expect(await findTemps(repo.path)).toEqual([]);
    });

    it('retried after the move, only finishes the cleanup and leaves the master as it is', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('masters/v2.img'), MiB, [{ offset: 0, length: 4096 }]);
      await withSidecar('clones/c.img');
      const before = await fs.stat(inRepo('masters/v2.img'));
      await driver.capture(repo, 'clones/c.img', 'masters/v2.img');
      expect(await exists(inRepo('clones/c.img.encompass'))).toBe(false);
      expect((await fs.stat(inRepo('masters/v2.img'))).ino).toBe(before.ino);

      await makeSparseImage(inRepo('clones/d.img'), MiB, []);
      await driver.capture(repo, 'clones/d.img', 'masters/v2.img');
      expect(await exists(inRepo('clones/d.img'))).toBe(false);
      expect((await fs.stat(inRepo('masters/v2.img'))).ino).toBe(before.ino);
    });

    it('flattens a qcow2 clone into a raw master where the driver can flatten, and refuses otherwise', async () => {
      const { driver, repo } = the();
      await fs.mkdir(inRepo('clones'));
      makeQcow2(inRepo('clones/q.qcow2'), '4M');
      writeIntoDisk(inRepo('clones/q.qcow2'), 'qcow2', 0, MiB);
      const capture = driver.capture(repo, 'clones/q.qcow2', 'masters/q.img');
      if (!canFlatten(driver)) {
        await expectCode(capture, 'UnsupportedCaptureError', 'unsupported_capture');
        expect(await exists(inRepo('clones/q.qcow2'))).toBe(true);
        expect(await exists(inRepo('masters/q.img'))).toBe(false);
        return;
      }
      await capture;
      const raw = await fs.readFile(inRepo('masters/q.img'));
      expect(raw.length).toBe(4 * MiB);
      expect(raw.subarray(0, MiB)).toEqual(Buffer.alloc(MiB, 0x55));
      expect((await driver.inspect(repo, 'masters/q.img')).format).toBe('raw');
      expect(await exists(inRepo('clones/q.qcow2'))).toBe(false);
    });

    it('reports a clone that is not there, with no master made from it, as not found', async () => {
      const { driver, repo } = the();
      await expectCode(
        driver.capture(repo, 'clones/none.img', 'masters/n.img'),
        'ImageNotFoundError',
        'image_not_found',
      );
    });
  });

  describe('copyIn', () => {
    /** Another repository on the same host, holding the image being moved and, for a linked one, its master. */
    let other: string;
    const inOther = (rel: string) => path.join(other, rel);
    const source = (rel: string) => ({ path: inOther(rel), sidecar: `${inOther(rel)}.encompass` });
    beforeEach(async () => {
      other = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-other-repo-'));
    });
    afterEach(async () => fs.rm(other, { recursive: true, force: true }));

    /** A linked clone in the other repository that names its master relatively, as `../masters/m.img`. */
    async function relativeOverlay() {
      await makeSparseImage(inOther('masters/m.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
      await fs.mkdir(inOther('clones'));
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', '../masters/m.img', '-F', 'raw', 'l.qcow2'], {
        cwd: inOther('clones'),
      });
      writeIntoDisk(inOther('clones/l.qcow2'), 'qcow2', 2 * MiB, 4096);
    }

    it('copies an image verified and as sparse, with its undo records but not its maker, and leaves the source', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inOther('clones/c.img'), 64 * MiB, SPARSE_64M_REGIONS);
      await fs.mkdir(inOther('clones/c.img.encompass/undo'), { recursive: true });
      await fs.writeFile(inOther('clones/c.img.encompass/undo/item-0.json'), '{"index":0}');
      await fs.writeFile(inOther('clones/c.img.encompass/made-by'), '{"operation":"op-clone"}');
      const sha = await sha256OfFile(inOther('clones/c.img'));
      const seen: [number, number][] = [];
      const info = await driver.copyIn(repo, 'clones/c.img', source('clones/c.img'), {
        owner: 'op-move',
        onProgress: (d, t) => seen.push([d, t]),
      });
      expect(info).toMatchObject({ sizeBytes: 64 * MiB, sha256: sha, format: 'raw' });
      expect(await sha256OfFile(inRepo('clones/c.img'))).toBe(sha);
      expect(info.allocatedBytes).toBeLessThanOrEqual((await allocatedBytes(inOther('clones/c.img'))) + MiB);
      expect(await fs.readFile(inRepo('clones/c.img.encompass/undo/item-0.json'), 'utf8')).toBe('{"index":0}');
      expect(await driver.owner(repo, 'clones/c.img')).toBe('op-move');
      expect(seen.at(-1)).toEqual([128 * MiB, 128 * MiB]);
      expect(seen.every(([d], i) => i === 0 || d >= seen[i - 1]![0])).toBe(true);
      expect(await sha256OfFile(inOther('clones/c.img'))).toBe(sha);
      expect(await findTemps(repo.path)).toEqual([]);
    });

    it('keeps a linked clone reading through to its master, rebasing a backing name that would not resolve, or refuses it for a LUN', async () => {
      const { driver, repo } = the();
      await relativeOverlay();
      const master = inOther('masters/m.img');
      const copy = driver.copyIn(repo, 'clones/l.qcow2', source('clones/l.qcow2'), { backing: master });
      if (the().diskKind === 'iscsi') {
        await expectCode(copy, 'LunNeedsRawImageError', 'lun_needs_raw');
        expect(await exists(inRepo('clones/l.qcow2'))).toBe(false);
        expect(await findTemps(repo.path)).toEqual([]);
        return;
      }
      expect((await copy).format).toBe('qcow2');
      expect(await backingOf(inRepo('clones/l.qcow2'))).toBe(master);
      expect(sameDiskContent(inRepo('clones/l.qcow2'), inOther('clones/l.qcow2'))).toBe(true);
      // The source keeps its own header.
      expect(await backingOf(inOther('clones/l.qcow2'))).toBe(master);
    });

    it('refuses a linked clone whose backing file would not resolve when no master is named, leaving nothing', async () => {
      const { driver, repo } = the();
      if (the().diskKind === 'iscsi') return;
      await relativeOverlay();
      await expectCode(
        driver.copyIn(repo, 'clones/l.qcow2', source('clones/l.qcow2')),
        'UnreachableBackingError',
        'backing_unreachable',
      );
      expect(await exists(inRepo('clones/l.qcow2'))).toBe(false);
      expect(await findTemps(repo.path)).toEqual([]);
    });

    it("refuses to copy over another operation's image, leaving it and its sidecar as they were", async () => {
      const { driver, repo } = the();
      await makeSparseImage(inOther('c.img'), MiB, [{ offset: 0, length: 4096 }]);
      await fs.mkdir(inOther('c.img.encompass/undo'), { recursive: true });
      await fs.writeFile(inOther('c.img.encompass/undo/item-0.json'), '{}');
      await makeSparseImage(inRepo('c.img'), MiB, []);
      const before = await sha256OfFile(inRepo('c.img'));
      await expectCode(
        driver.copyIn(repo, 'c.img', source('c.img'), { owner: 'op-2' }),
        'ImageExistsError',
        'image_exists',
      );
      expect(await sha256OfFile(inRepo('c.img'))).toBe(before);
      expect(await exists(inRepo('c.img.encompass'))).toBe(false);
    });

    it('leaves nothing behind when aborted midway', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inOther('big.img'), 64 * MiB, SPARSE_64M_REGIONS);
      await fs.mkdir(inOther('big.img.encompass/undo'), { recursive: true });
      await fs.writeFile(inOther('big.img.encompass/undo/item-0.json'), '{}');
      const stop = new AbortController();
      const copy = driver.copyIn(repo, 'moved/big.img', source('big.img'), {
        owner: 'op-3',
        signal: stop.signal,
        onProgress: (d) => d > 0 && stop.abort(new Error('stop')),
      });
      await expectCode(copy, 'OperationAbortedError', 'aborted');
      expect(await exists(inRepo('moved'))).toBe(false);
      expect(await findTemps(repo.path)).toEqual([]);
    });
  });

  describe('remove', () => {
    it('removes an image and its sidecar directory', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('c.img'), MiB, []);
      await fs.mkdir(inRepo('c.img.encompass/undo'), { recursive: true });
      await fs.writeFile(inRepo('c.img.encompass/undo/1.json'), '{}');
      await driver.remove(repo, 'c.img');
      expect(await exists(inRepo('c.img'))).toBe(false);
      expect(await exists(inRepo('c.img.encompass'))).toBe(false);
    });

    it('treats removing a missing image as done', async () => {
      const { driver, repo } = the();
      await expect(driver.remove(repo, 'never.img')).resolves.toBeUndefined();
    });
  });

  describe('cleanupTemp', () => {
    it('removes planted temp files, at any usual depth, and nothing else', async () => {
      const { driver, repo } = the();
      await makeSparseImage(inRepo('keep.img'), MiB, []);
      await fs.writeFile(inRepo('.encompass-tmp-x'), 'partial');
      await fs.mkdir(inRepo('a/b'), { recursive: true });
      await fs.writeFile(inRepo('a/b/.encompass-tmp-abc-disk.img'), 'partial');
      await fs.writeFile(inRepo('a/.encompass-partial-up.img'), 'half an upload');
      const removed = await driver.cleanupTemp(repo);
      expect(removed.sort()).toEqual([inRepo('.encompass-tmp-x'), inRepo('a/b/.encompass-tmp-abc-disk.img')].sort());
      expect(await findTemps(repo.path)).toEqual([]);
      expect(await exists(inRepo('keep.img'))).toBe(true);
      expect(await exists(inRepo('a/.encompass-partial-up.img'))).toBe(true);
    });
  });

  it('reports the free bytes of the repository filesystem', async () => {
    const { driver, repo } = the();
    expect(await driver.freeBytes(repo)).toBeGreaterThan(0);
  });
}
