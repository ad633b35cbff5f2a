/**
 * `npm run bench:customize`: ten customization items (five file writes, five regex replacements)
 * applied offline to a 3 GiB ext4 image by the agent's engine (debugfs, no mount, with undo records),
 * against the same ten edits done through a loop mount + write + unmount, in the same run.
 * Medians of several runs; needs root (mount) and ~100 MiB of real disk (the image is sparse).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyCustomization, type CustomizationItem, FileUndoStore } from '../../edge-agent/customization/index';
import { ExtImageFilesystem } from '../../edge-agent/drivers/imagefs/ext';
import { median } from './load';

const RUNS = 5;
const IMAGE_BYTES = 3 * 1024 ** 3;

const items: CustomizationItem[] = [
  ...Array.from({ length: 5 }, (_, i) => ({
    type: 'file' as const,
    path: `/etc/encompass/file${i}.conf`,
    content: `# item ${i} for \${hostname}\nvalue=${i}\n`,
  })),
  ...Array.from({ length: 5 }, (_, i) => ({
    type: 'replace' as const,
    path: `/etc/encompass/base${i}.conf`,
    pattern: '^host=.*$',
    replacement: 'host=${hostname}',
    flags: 'm',
  })),
];

function seedTree(root: string) {
  execFileSync('mkdir', ['-p', join(root, 'etc/encompass')]);
  for (let i = 0; i < 5; i++)
    execFileSync('sh', ['-c', `printf 'host=template\\nport=${i}\\n' > ${join(root, `etc/encompass/base${i}.conf`)}`]);
}

/** The same ten edits by hand on a loop mount. */
async function loopMountEdit(image: string, mnt: string, hostname: string) {
  execFileSync('mount', ['-o', 'loop', image, mnt]);
  try {
    for (let i = 0; i < 5; i++)
      await writeFile(join(mnt, `etc/encompass/file${i}.conf`), `# item ${i} for ${hostname}\nvalue=${i}\n`);
    for (let i = 0; i < 5; i++) {
      const file = join(mnt, `etc/encompass/base${i}.conf`);
      await writeFile(file, (await readFile(file, 'utf8')).replace(/^host=.*$/m, `host=${hostname}`));
    }
  } finally {
    execFileSync('umount', [mnt]);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench:customize needs root for the loop mount it compares against');
    return 1;
  }
  const dir = await mkdtemp(join(tmpdir(), 'encompass-bench-customize-'));
  try {
    const root = join(dir, 'root');
    seedTree(root);
    const mnt = join(dir, 'mnt');
    await mkdir(mnt);
    const image = join(dir, 'image.raw');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, image, `${IMAGE_BYTES / 1024 ** 2}M`]);
    const fs = new ExtImageFilesystem();
    const volume = (await fs.detect(image))!;
    const ours: number[] = [];
    const peer: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const undoDir = join(dir, `undo-${r}`);
      const t0 = performance.now();
      await applyCustomization({
        imagePath: image,
        fs,
        volume,
        items,
        variables: { hostname: `host-${r}` },
        from: 0,
        to: items.length,
        undo: new FileUndoStore(undoDir),
      });
      ours.push(performance.now() - t0);
      const t1 = performance.now();
      await loopMountEdit(image, mnt, `peer-${r}`);
      peer.push(performance.now() - t1);
      await rm(undoDir, { recursive: true, force: true });
    }
    const o = median(ours);
    const p = median(peer);
    console.log(`ten items on a ${IMAGE_BYTES / 1024 ** 3} GiB ext4 image, medians of ${RUNS} runs`);
    console.log('way                                        median ms   per item ms');
    console.log(
      `encompass (debugfs, verified, undo kept)   ${o.toFixed(1).padStart(9)}   ${(o / 10).toFixed(1).padStart(11)}`,
    );
    console.log(
      `loop mount + edit + umount                 ${p.toFixed(1).padStart(9)}   ${(p / 10).toFixed(1).padStart(11)}`,
    );
    console.log(`ratio ours / loop mount: ${(o / p).toFixed(2)}x`);
    await mkdir('bench-results', { recursive: true });
    await writeFile(
      'bench-results/customize.json',
      `${JSON.stringify({ at: new Date().toISOString(), imageBytes: IMAGE_BYTES, items: items.length, runs: { ours, peer }, medianMs: { ours: o, loopMount: p }, ratio: o / p }, null, 2)}\n`,
    );
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`bench:customize failed: ${e.message}`);
  return 1;
});
