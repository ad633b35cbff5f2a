import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../../../edge-agent/drivers/storage/interface';
import { IscsiStorageDriver } from '../../../../../edge-agent/drivers/storage/iscsi/driver';
import { exists, MiB, makeSparseImage } from '../images';
import { alive, qemuImgInfo, requireIscsiTools } from './tgtd';

const MANAGED = 3272;
const TAKEN = 3273;
const NOBODY = 3274;
const ALICE = 'iqn.2026-11.io.example:alice';
const alice = { machine: 'alice', initiatorName: ALICE };

const tgtadm = (controlPort: number, ...args: string[]) =>
  promisify(execFile)('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', ...args]).then((r) => r.stdout);

describe('iscsi repository whose tgtd the agent manages', () => {
  const driver = new IscsiStorageDriver();
  const pids = new Set<number>();
  let dir: string;
  const repoOn = (port: number, extra: Record<string, unknown> = {}): RepositoryRef => ({
    id: `san-${port}`,
    kind: 'iscsi',
    path: dir,
    settings: {
      portal: `127.0.0.1:${port}`,
      iqnPrefix: 'iqn.2026-11.io.encompass.managed',
      controlPort: port,
      manageTarget: true,
      ...extra,
    },
  });
  const exportAlice = async (repo: RepositoryRef) => {
    const disk = await driver.export(repo, 'clones/c.img', alice);
    const pid = driver.targets.pid(MANAGED);
    if (pid) pids.add(pid);
    return disk;
  };

  beforeAll(async () => {
    requireIscsiTools();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-iscsi-managed-'));
    await makeSparseImage(path.join(dir, 'clones/c.img'), 8 * MiB, [{ offset: 0, length: MiB }]);
  });
  beforeEach(async () => driver.shutdown());
  afterAll(async () => {
    await driver.shutdown();
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts its own tgtd on the first export and stops it on shutdown', async () => {
    const disk = await exportAlice(repoOn(MANAGED));
    const pid = driver.targets.pid(MANAGED)!;
    expect(alive(pid)).toBe(true);
    expect((await qemuImgInfo(disk, ALICE)).output).toContain('virtual size: 8 MiB');
    await driver.shutdown();
    expect(alive(pid)).toBe(false);
    expect(driver.targets.pid(MANAGED)).toBeUndefined();
  });

  it('re-creates a target lost in a tgtd restart, with the same disk and SCSI identity', async () => {
    const repo = repoOn(MANAGED);
    const before = await exportAlice(repo);
    const serial = /SCSI SN: (\w+)/g;
    const identity = async () =>
      [...(await tgtadm(MANAGED, '--op', 'show', '--mode', 'target')).matchAll(serial)].map((m) => m[1]);
    const identityBefore = await identity();
    await driver.targets.stop(MANAGED);
    expect((await qemuImgInfo(before, ALICE)).ok).toBe(false);

    expect(await exportAlice(repo)).toEqual(before);
    expect(await identity()).toEqual(identityBefore);
    expect((await qemuImgInfo(before, ALICE)).ok).toBe(true);
  });

  it('refuses a tgtd on its control port that serves another portal', async () => {
    await exportAlice(repoOn(MANAGED));
    const elsewhere = repoOn(MANAGED, { portal: '127.0.0.1:3279' });
    await expect(driver.export(elsewhere, 'clones/c.img', alice)).rejects.toMatchObject({
      code: 'portal_not_served',
      served: [`127.0.0.1:${MANAGED}`],
    });
  });

  it('fails to start when the portal is taken, leaving no tgtd behind', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(TAKEN, '127.0.0.1', r));
    try {
      const err = await driver.export(repoOn(TAKEN), 'clones/c.img', alice).catch((e) => e);
      expect(err).toMatchObject({
        name: 'TargetStartError',
        code: 'target_start_failed',
        portal: `127.0.0.1:${TAKEN}`,
      });
      expect(err.message).toMatch(/portal address is free/);
    } finally {
      squatter.close();
    }
    expect(driver.targets.pid(TAKEN)).toBeUndefined();
    await expect(tgtadm(TAKEN, '--op', 'show', '--mode', 'sys')).rejects.toThrow();
  });

  it('without manageTarget, says no tgtd answers on the control port', async () => {
    const repo = repoOn(NOBODY, { manageTarget: false });
    const err = await driver.export(repo, 'clones/c.img', alice).catch((e) => e);
    expect(err).toMatchObject({ name: 'TargetUnreachableError', code: 'target_unreachable', controlPort: NOBODY });
    expect(err.message).toMatch(/manageTarget: true/);
  });

  it('with no tgtd running, unexport is done and remove only removes the file', async () => {
    const repo = repoOn(NOBODY);
    await makeSparseImage(path.join(dir, 'gone.img'), MiB, []);
    await expect(driver.unexport(repo, 'gone.img', alice)).resolves.toBeUndefined();
    await driver.remove(repo, 'gone.img');
    expect(await exists(path.join(dir, 'gone.img'))).toBe(false);
    expect(driver.targets.pid(NOBODY)).toBeUndefined();
  });
});
