/**
 * bench:discover, storage: the discover task on one file repository of IMAGES sparse raw images,
 * first with `hash: true` and no digests (every image read and hashed), then with the digests of that
 * first run (lazy: size and modification time unchanged, so nothing is read again), beside
 * `sha256sum` of the same files in one process. The page cache holds the images throughout (they
 * were just written and are mostly holes): both sides hash from memory.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { RepositoryRef } from '../../edge-agent/drivers/storage/interface';
import { discoverHarness } from '../edge-agent/discovery/context';
import { MiB, makeSparseImage } from '../edge-agent/drivers/storage/images';
import { alternate, type Figure, type Owed } from './discover-common';

export const IMAGES = 50;
export const IMAGE_BYTES = 64 * MiB;
/** Four 1 MiB regions of random data, 16 MiB apart: the rest of each image is holes. */
const REGIONS = [0, 16, 32, 48].map((m) => ({ offset: m * MiB, length: MiB }));
export const DATA_BYTES = IMAGES * REGIONS.length * MiB;
const exec = promisify(execFile);

export async function measureStorage(runs: number, owed: Owed): Promise<Figure[]> {
  const h = await discoverHarness({});
  const remove = owed.add(() => h.cleanup());
  try {
    const repo: RepositoryRef = { id: 'bench-nas', kind: 'file', path: join(h.dir, 'repo') };
    const rels = Array.from({ length: IMAGES }, (_, i) => `masters/m-${String(i).padStart(2, '0')}.img`);
    console.log(
      `storage: writing ${IMAGES} sparse ${IMAGE_BYTES / MiB} MiB raw images (${DATA_BYTES / MiB} MiB of data) in ${repo.path}...`,
    );
    for (const rel of rels) await makeSparseImage(join(repo.path, rel), IMAGE_BYTES, REGIONS);
    const seeds = [{ kind: 'storage', address: repo.id, repository: repo }];

    const first: number[] = [];
    const again: number[] = [];
    const peer: number[] = [];
    let digests: { repository: string; path: string; sizeBytes: number; modifiedAt: string; sha256: string }[] = [];
    const ours = async () => {
      const t0 = performance.now();
      const out = await h.run({ seeds, hash: true });
      first.push((performance.now() - t0) / 1000);
      digests = out.volumes.map((v) => ({ ...v, sha256: v.sha256 ?? '' }));
      if (out.seeds[0]!.error || digests.length !== IMAGES || digests.some((d) => !d.sha256))
        throw new Error(
          `discover should hash ${IMAGES} images: ${digests.length}, ${JSON.stringify(out.seeds[0]!.error)}`,
        );
      const t1 = performance.now();
      const lazy = await h.run({ seeds, hash: true, digests });
      again.push((performance.now() - t1) / 1000);
      if (lazy.volumes.some((v, i) => v.sha256 !== digests[i]!.sha256))
        throw new Error('the second run should return every digest as given');
    };
    const sha256sum = async () => {
      const t0 = performance.now();
      const { stdout } = await exec('sha256sum', rels, { cwd: repo.path });
      peer.push((performance.now() - t0) / 1000);
      const theirs = new Map(stdout.split('\n').flatMap((l) => (l ? [[l.slice(66), l.slice(0, 64)] as const] : [])));
      const differ = digests.find((d) => theirs.get(d.path) !== d.sha256);
      if (digests.length && differ) throw new Error(`sha256sum disagrees about ${differ.path}`);
    };
    await alternate(runs, ours, sha256sum, (r) =>
      console.log(
        `storage run ${r}/${runs}: first ${first.at(-1)!.toFixed(2)} s, with digests ${again.at(-1)!.toFixed(3)} s, sha256sum ${peer.at(-1)!.toFixed(2)} s`,
      ),
    );
    const what = `${IMAGES} x ${IMAGE_BYTES / MiB} MiB sparse raw`;
    return [
      { key: 'storage-first', what: `storage discover, hash, no digests (${what})`, unit: 's', runs: first },
      { key: 'storage-lazy', what: 'storage discover, digests of the first run', unit: 's', runs: again },
      { key: 'storage-sha256sum', what: `storage peer: sha256sum of the ${IMAGES} files`, unit: 's', runs: peer },
    ];
  } finally {
    await remove();
  }
}
