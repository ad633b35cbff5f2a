/**
 * `npm run bench:customize`: ten customization items (five file writes, five regex replacements)
 * applied offline to a 3 GiB ext4 image by the agent's engine (debugfs, no mount, with undo records),
 * against the same ten edits done through a loop mount + write + unmount, in the same run; then the
 * same ten items through the API (the customize event, from the POST until the operation has
 * succeeded), with a rollback between runs that is not timed. Medians of several runs; needs root
 * (mount) and ~100 MiB of real disk (the image is sparse). `--no-api` skips the API part.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyCustomization, type CustomizationItem, FileUndoStore } from '../../edge-agent/customization/index';
import { ExtImageFilesystem } from '../../edge-agent/drivers/imagefs/ext';
import { startStack } from '../../infra/local/stack';
import { median } from './load';

const RUNS = 11;
const API_RUNS = 7;
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

/** Driver call and loop mount, alternating on the same image, run after run. */
async function driverAndPeer(image: string, dir: string): Promise<{ ours: number[]; peer: number[] }> {
  const mnt = join(dir, 'mnt');
  await mkdir(mnt);
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
  return { ours, peer };
}

async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** Polls the operation every 5 ms (the measurement's resolution) until it ends; throws unless it succeeded. */
async function finished(url: string, token: string, accepted: any, what: string): Promise<void> {
  if (!accepted.operation) throw new Error(`${what} was not accepted: ${JSON.stringify(accepted)}`);
  for (;;) {
    const op = await call(`${url}/v1/operations/${accepted.operation}`, token);
    if (op.status === 'succeeded') return;
    if (op.status !== 'running') throw new Error(`${what} failed: ${JSON.stringify(op.error)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The customize event through the local stack, on a sparse clone of the same master. */
async function throughApi(repoDir: string): Promise<number[]> {
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-'));
  const stack = await startStack({ home, port: 0 });
  const { url, adminToken: token } = stack;
  try {
    const repo = await call(`${url}/v1/repositories?wait=20`, token, 'POST', {
      name: 'bench',
      site: 'local',
      kind: 'file',
      path: repoDir,
    });
    const master = { name: 'bench-master', repository: repo.id, path: 'masters/base.img' };
    await finished(url, token, await call(`${url}/v1/masters`, token, 'POST', master), 'import');
    const clone = { master: 'bench-master', name: 'bench-clone', method: 'sparse' };
    await finished(url, token, await call(`${url}/v1/clones`, token, 'POST', clone), 'clone');
    const times: number[] = [];
    for (let r = 0; r < API_RUNS; r++) {
      const body = { ...(r === 0 ? { items } : {}), variables: { hostname: `api-${r}` } };
      const t0 = performance.now();
      await finished(
        url,
        token,
        await call(`${url}/v1/clones/bench-clone/customize`, token, 'POST', body),
        'customize',
      );
      times.push(performance.now() - t0);
      await finished(
        url,
        token,
        await call(`${url}/v1/clones/bench-clone/rollback`, token, 'POST', { to: 0 }),
        'rollback',
      );
    }
    return times;
  } finally {
    await stack.stop();
    await rm(home, { recursive: true, force: true });
  }
}

const ms = (n: number) => n.toFixed(1).padStart(9);

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('bench:customize needs root for the loop mount it compares against');
    return 1;
  }
  const dir = await mkdtemp(join(tmpdir(), 'encompass-bench-customize-'));
  try {
    const root = join(dir, 'root');
    seedTree(root);
    const image = join(dir, 'repo/masters/base.img');
    await mkdir(join(dir, 'repo/masters'), { recursive: true });
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, image, `${IMAGE_BYTES / 1024 ** 2}M`]);
    const api = process.argv.includes('--no-api') ? [] : await throughApi(join(dir, 'repo'));
    const { ours, peer } = await driverAndPeer(image, dir);
    const o = median(ours);
    const p = median(peer);
    console.log(`ten items on a ${IMAGE_BYTES / 1024 ** 3} GiB ext4 image, medians of ${RUNS} runs (API: ${API_RUNS})`);
    console.log('way                                              median ms   per item ms');
    console.log(`encompass driver call (debugfs, verified, undo)  ${ms(o)}   ${ms(o / 10)}`);
    console.log(`loop mount + edit + umount                       ${ms(p)}   ${ms(p / 10)}`);
    if (api.length)
      console.log(`encompass API (customize until succeeded)        ${ms(median(api))}   ${ms(median(api) / 10)}`);
    console.log(`ratio driver / loop mount: ${(o / p).toFixed(2)}x`);
    await mkdir('bench-results', { recursive: true });
    const result = {
      at: new Date().toISOString(),
      imageBytes: IMAGE_BYTES,
      items: items.length,
      runs: { ours, peer, api },
      medianMs: { ours: o, loopMount: p, ...(api.length ? { api: median(api) } : {}) },
      ratio: o / p,
    };
    await writeFile('bench-results/customize.json', `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((e: Error) => {
  console.error(`bench:customize failed: ${e.message}`);
  return 1;
});
