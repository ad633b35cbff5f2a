import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IscsiDisk } from '../../../../../edge-agent/drivers/disk';
import { FileStorageDriver } from '../../../../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import { IscsiStorageDriver } from '../../../../../edge-agent/drivers/storage/iscsi/driver';
import { exists, MiB, makeSparseImage, requireTool, SPARSE_64M_REGIONS, sha256OfFile } from '../images';
import { describeStorageConformance } from '../storage.case';
import { holdSession, lunSha256, qemuImgInfo, startTgtd, type TestTgtd } from './tgtd';

const PORT = 3271;
/** The conformance suite's own tgtd. */
const CASE_PORT = 3276;
const PREFIX = 'iqn.2026-11.io.encompass.test';
const ALICE = 'iqn.2026-11.io.example:alice';
const BOB = 'iqn.2026-11.io.example:bob';
const MALLORY = 'iqn.2026-11.io.example:mallory';

const iscsiRepo = (dir: string, port = PORT): RepositoryRef => ({
  id: 'san-test',
  kind: 'iscsi',
  path: dir,
  settings: { portal: `127.0.0.1:${port}`, iqnPrefix: PREFIX, controlPort: port },
});

const targetsOf = async (tgtd: TestTgtd) =>
  [...(await tgtd.tgtadm('--op', 'show', '--mode', 'target')).matchAll(/^Target \d+: (\S+)$/gm)].map((m) => m[1]!);

async function deleteTargets(tgtd: TestTgtd): Promise<void> {
  const shown = await tgtd.tgtadm('--op', 'show', '--mode', 'target');
  for (const m of shown.matchAll(/^Target (\d+):/gm))
    await tgtd.tgtadm('--op', 'delete', '--mode', 'target', '--force', '--tid', m[1]!);
}

describe('with a real tgtd', () => {
  let tgtd: TestTgtd | undefined;
  beforeAll(async () => {
    tgtd = await startTgtd(CASE_PORT);
  });
  afterAll(async () => tgtd?.stop());

  describeStorageConformance('iscsi', async () => {
    requireTool('qemu-img', 'qemu-utils');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-iscsi-repo-'));
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-iscsi-read-'));
    return {
      driver: new IscsiStorageDriver(),
      repo: iscsiRepo(dir, CASE_PORT),
      guarded: true,
      diskKind: 'iscsi',
      // The machine reads the LUN as its initiator would log in: qemu's iSCSI client with that name.
      readDisk: (disk, who) =>
        disk.kind === 'iscsi' && who.initiatorName
          ? lunSha256(disk, who.initiatorName, work).catch(() => null)
          : Promise.resolve(null),
      grants: () => targetsOf(tgtd!),
      cleanup: async () => {
        await deleteTargets(tgtd!);
        await fs.rm(dir, { recursive: true, force: true });
        await fs.rm(work, { recursive: true, force: true });
      },
    };
  });
});

describe('iscsi storage driver', () => {
  const driver = new IscsiStorageDriver();
  let tgtd: TestTgtd;
  let dir: string;
  let repo: RepositoryRef;
  const inRepo = (rel: string) => path.join(dir, rel);
  const targetNames = () => targetsOf(tgtd);

  beforeAll(async () => {
    tgtd = await startTgtd(PORT);
  });
  afterAll(async () => tgtd?.stop());

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-iscsi-'));
    repo = iscsiRepo(dir);
    await makeSparseImage(inRepo('masters/m.img'), 16 * MiB, [
      { offset: 0, length: MiB },
      { offset: 9 * MiB, length: 64 * 1024 },
    ]);
  });
  afterEach(async () => {
    await deleteTargets(tgtd);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('offers the san volume copy first, then the file methods that make self-contained volumes', async () => {
    const fileMethods = await new FileStorageDriver().methods(repo);
    const methods = await driver.methods(repo);
    expect(methods).toEqual(['san', ...fileMethods.filter((m) => m !== 'overlay')]);
    expect(methods).toContain('copy');
  });

  it('clones by san (and by auto, meaning san) into an identical sparse copy', async () => {
    await makeSparseImage(inRepo('masters/big.img'), 64 * MiB, SPARSE_64M_REGIONS);
    const san = await driver.clone(repo, 'masters/big.img', 'clones/a/disk.img', 'san');
    const auto = await driver.clone(repo, 'masters/big.img', 'clones/b/disk.img', 'auto');
    const master = await sha256OfFile(inRepo('masters/big.img'));
    expect(san).toMatchObject({ method: 'san', format: 'raw', sizeBytes: 64 * MiB, sha256: master });
    expect(auto).toMatchObject({ method: 'san', sha256: master });
    expect(san.allocatedBytes).toBeLessThan(10 * MiB);
  });

  it('exports a clone as its own target whose LUN only the bound initiator can open', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const disk = await driver.export(repo, 'clones/a/disk.img', { machine: 'alice', initiatorName: ALICE });
    expect(disk).toEqual({
      kind: 'iscsi',
      portal: `127.0.0.1:${PORT}`,
      target: `${PREFIX}:clones:a:disk.img`,
      lun: 1,
      format: 'raw',
    });

    const allowed = await qemuImgInfo(disk, ALICE);
    expect(allowed.output).toContain('virtual size: 16 MiB (16777216 bytes)');
    const denied = await qemuImgInfo(disk, MALLORY);
    expect(denied.ok).toBe(false);
    expect(denied.ms).toBeLessThan(2000);
  });

  it('exports idempotently: the same disk, one target, one ACL entry', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const access = { machine: 'alice', initiatorName: ALICE };
    const first = await driver.export(repo, 'clones/a/disk.img', access);
    expect(await driver.export(repo, 'clones/a/disk.img', access)).toEqual(first);
    const shown = await tgtd.tgtadm('--op', 'show', '--mode', 'target');
    expect(await targetNames()).toEqual([first.target]);
    expect(shown.split('ACL information:')[1]?.trim()).toBe(ALICE);
  });

  it('drops an address ACL found on its target on export, since that would let anyone in', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const access = { machine: 'alice', initiatorName: ALICE };
    const disk = await driver.export(repo, 'clones/a/disk.img', access);
    await tgtd.tgtadm('--op', 'bind', '--mode', 'target', '--tid', '1', '--initiator-address', 'ALL');
    expect((await qemuImgInfo(disk, MALLORY)).ok).toBe(true);
    await driver.export(repo, 'clones/a/disk.img', access);
    expect([(await qemuImgInfo(disk, MALLORY)).ok, (await qemuImgInfo(disk, ALICE)).ok]).toEqual([false, true]);
  });

  it('gives two clones to two machines, each reaching only its own LUN', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    await driver.clone(repo, 'masters/m.img', 'clones/b/disk.img', 'san');
    const a = await driver.export(repo, 'clones/a/disk.img', { machine: 'alice', initiatorName: ALICE });
    const b = await driver.export(repo, 'clones/b/disk.img', { machine: 'bob', initiatorName: BOB });
    expect(a.target).not.toBe(b.target);
    const reach = async (d: IscsiDisk, who: string) => (await qemuImgInfo(d, who)).ok;
    expect([await reach(a, ALICE), await reach(a, BOB), await reach(b, BOB), await reach(b, ALICE)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('serves the whole backing file: reading the LUN gives the same sha256', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const disk = await driver.export(repo, 'clones/a/disk.img', { machine: 'alice', initiatorName: ALICE });
    expect(await lunSha256(disk, ALICE, dir)).toBe(await sha256OfFile(inRepo('clones/a/disk.img')));
  });

  it('refuses to unexport or remove while the machine is logged in, and does both once it logs out', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const access = { machine: 'alice', initiatorName: ALICE };
    const disk = await driver.export(repo, 'clones/a/disk.img', access);
    const session = await holdSession(disk, ALICE);
    try {
      const err = await driver.unexport(repo, 'clones/a/disk.img', access).catch((e) => e);
      expect(err).toMatchObject({
        name: 'TargetBusyError',
        code: 'target_busy',
        target: disk.target,
        initiators: [ALICE],
      });
      expect(err.message).toMatch(/power off or detach/i);
      await expect(driver.remove(repo, 'clones/a/disk.img')).rejects.toMatchObject({ code: 'target_busy' });
      expect(await exists(inRepo('clones/a/disk.img'))).toBe(true);
    } finally {
      await session.close();
    }
    await driver.unexport(repo, 'clones/a/disk.img', access);
    expect(await targetNames()).toEqual([]);
  });

  it('removes an exported image by deleting its target first', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const disk = await driver.export(repo, 'clones/a/disk.img', { machine: 'alice', initiatorName: ALICE });
    await driver.remove(repo, 'clones/a/disk.img');
    expect(await exists(inRepo('clones/a/disk.img'))).toBe(false);
    expect(await targetNames()).toEqual([]);
    expect((await qemuImgInfo(disk, ALICE)).ok).toBe(false);
  });

  it('lists its LUN backing files, naming the target that serves each one exported', async () => {
    await driver.clone(repo, 'masters/m.img', 'clones/a/disk.img', 'san');
    const disk = await driver.export(repo, 'clones/a/disk.img', { machine: 'alice', initiatorName: ALICE });
    const listed = await driver.list(repo);
    expect(listed.map((i) => [i.path, i.format, i.servedAs])).toEqual([
      ['clones/a/disk.img', 'raw', disk.target],
      ['masters/m.img', 'raw', undefined],
    ]);
  });
});
