/** Discovering an iSCSI repository on a real tgtd: an exported image comes with the target and LUN that serve it. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IscsiDisk } from '../../../edge-agent/drivers/disk';
import type { RepositoryRef } from '../../../edge-agent/drivers/storage/interface';
import { freeTcpPort } from '../../support/machines-host';
import { MiB, makeSparseImage } from '../drivers/storage/images';
import { startTgtd, type TestTgtd } from '../drivers/storage/iscsi/tgtd';
import { type DiscoverHarness, discoverHarness } from './context';

/**
 * tgtd's control "port" is the index of a unix socket (/var/run/tgtd/socket.N, at most 32767), not a
 * TCP port: pick one no other tgtd on this host holds.
 */
async function freeControlIndex(): Promise<number> {
  for (;;) {
    const n = 20000 + Math.floor(Math.random() * 12000);
    const taken = await fs.stat(`/var/run/tgtd/socket.${n}`).then(
      () => true,
      () => false,
    );
    if (!taken) return n;
  }
}

describe('discovering an iscsi storage seed', () => {
  let h: DiscoverHarness;
  let tgtd: TestTgtd;
  let repo: RepositoryRef;

  beforeAll(async () => {
    const controlPort = await freeControlIndex();
    tgtd = await startTgtd(await freeTcpPort(), controlPort);
    h = await discoverHarness({});
    repo = {
      id: 'san-1',
      kind: 'iscsi',
      path: path.join(h.dir, 'san'),
      settings: { portal: tgtd.portal, iqnPrefix: 'iqn.2026-11.io.encompass.discovery', controlPort },
    };
    await makeSparseImage(path.join(repo.path, 'clones/a.img'), 4 * MiB, [{ offset: 0, length: 4096 }]);
    await makeSparseImage(path.join(repo.path, 'masters/m.img'), 4 * MiB, []);
  });
  afterAll(async () => {
    await tgtd?.stop();
    await h?.cleanup();
  });

  it('names the target IQN and LUN of each image a target serves', async () => {
    const disk = (await h.ctx.drivers
      .storage('iscsi')
      .export(repo, 'clones/a.img', { machine: 'alice', initiatorName: 'iqn.2026-11.io.example:alice' })) as IscsiDisk;
    const out = await h.run({ seeds: [{ kind: 'storage', address: 'san-1', repository: repo }], hash: false });
    expect(out.volumes.map((v) => [v.path, v.iqn, v.lun])).toEqual([
      ['clones/a.img', disk.target, disk.lun],
      ['masters/m.img', undefined, undefined],
    ]);
  });
});
