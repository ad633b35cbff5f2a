/**
 * `npm run bench:deploy`: deployments of n sim machines from one ext4 master (reflink clone on an XFS
 * scratch filesystem, customize with a hostname per member, attach, activate) through the whole local
 * stack, for n = 10, 25, 50, 100 (SIZES). Prints each run's wall time, the per-member median and p95
 * (a member's first operation accepted to its last one ended), and the straight line t = a + b·n
 * through the wall times beside the paper's 53.6 + 13·n s (Table 2, its deployment of n blades).
 * Medians of RUNS runs (default 3) per size. Needs root (a loop mount) and 2 GiB free in TMPDIR.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../../infra/local/stack';
import { Api } from '../support/api';
import { baseFiles, hostnameItems, makeExt4 } from '../support/images';
import { checkPrerequisites, freeBytes, makeScratchFs, removeScratchFs } from './clone-fs';
import { linearFit } from './fit';
import { median, quantile } from './load';

const SIZES = (process.env.SIZES ?? '10,25,50,100').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const GiB = 1024 ** 3;
const PAPER = { a: 53.6, b: 13 };

async function main() {
  checkPrerequisites();
  const free = freeBytes(tmpdir());
  if (free < 2 * GiB)
    throw new Error(
      `bench:deploy needs 2 GiB free in ${tmpdir()}; ${(free / GiB).toFixed(1)} GiB are free. Free space or set TMPDIR.`,
    );
  const scratch = makeScratchFs(tmpdir(), 8 * GiB);
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-deploy-'));
  const stack = await startStack({ home, port: 0, log: () => undefined });
  const api = new Api(stack.url, stack.adminToken);
  try {
    const repoDir = join(scratch.mountPoint, 'repo');
    await mkdir(repoDir);
    await makeExt4(join(repoDir, 'masters/base.img'), baseFiles, 64);
    const repo = await api.post('/v1/repositories', { name: 'bench', site: 'local', kind: 'file', path: repoDir });
    if (repo.status !== 201) throw new Error(JSON.stringify(repo.body));
    const imported = await api.run('/v1/masters', {
      name: 'base',
      repository: 'bench',
      path: 'masters/base.img',
      customization: hostnameItems,
    });
    if (imported.status !== 'succeeded') throw new Error(JSON.stringify(imported));

    console.log(
      `bench:deploy: ${RUNS} run(s) per size, sizes ${SIZES.join(', ')}; sim machines, reflink clones on XFS`,
    );
    console.log('   n | wall s (median) | member median s | member p95 s | paper 53.6+13n s | paper/ours');
    const walls: number[] = [];
    let serial = 0;
    for (const n of SIZES) {
      const runs: { wall: number; memberMedian: number; memberP95: number }[] = [];
      for (let run = 0; run < RUNS; run++) {
        const tag = `bench-${++serial}`;
        for (let i = 0; i < n; i++) {
          const m = await api.post('/v1/machines', { name: `${tag}-m${i}`, site: 'local', kind: 'sim', tags: [tag] });
          if (m.status !== 201) throw new Error(JSON.stringify(m.body));
        }
        const t0 = Date.now();
        const r = await api.post('/v1/deployments', {
          master: 'base',
          count: n,
          selector: { tags: [tag] },
          name: `${tag}-\${index}`,
          variables: { hostname: `${tag}-\${index}` },
          method: 'reflink',
        });
        if (r.status !== 202) throw new Error(JSON.stringify(r.body));
        const op = await api.wait(r.body.operation, 30 * 60_000);
        const wall = (Date.now() - t0) / 1000;
        if (op.status !== 'succeeded') throw new Error(`deployment of ${n} failed: ${JSON.stringify(op.error)}`);
        const children = await childOperations(api, op.id);
        const spans = [...children.values()].map((s) => (s.end - s.start) / 1000).sort((a, b) => a - b);
        runs.push({ wall, memberMedian: quantile(spans, 0.5), memberP95: quantile(spans, 0.95) });
      }
      const wall = median(runs.map((x) => x.wall));
      walls.push(wall);
      const paper = PAPER.a + PAPER.b * n;
      console.log(
        `${String(n).padStart(4)} | ${wall.toFixed(1).padStart(15)} | ${median(runs.map((x) => x.memberMedian))
          .toFixed(2)
          .padStart(15)} | ${median(runs.map((x) => x.memberP95))
          .toFixed(2)
          .padStart(12)} | ${paper.toFixed(1).padStart(16)} | ${(paper / wall).toFixed(1)}×`,
      );
    }
    if (SIZES.length > 1) {
      const fit = linearFit(SIZES, walls);
      console.log(
        `fit: t = ${fit.a.toFixed(2)} + ${fit.b.toFixed(3)}·n s (r² ${fit.r2.toFixed(3)}); the paper: t = ${PAPER.a} + ${PAPER.b}·n s`,
      );
    }
  } finally {
    await stack.stop();
    await rm(home, { recursive: true, force: true });
    removeScratchFs(scratch);
  }
}

/** Each member's span, by clone: its first operation's acceptance to its last one's end. */
async function childOperations(api: Api, parent: string) {
  const spans = new Map<string, { start: number; end: number }>();
  let cursor: string | undefined;
  do {
    const page = await api.get(`/v1/operations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const o of page.body.items as any[]) {
      if (o.parent !== parent) continue;
      const s = spans.get(o.resource.id) ?? { start: Infinity, end: 0 };
      s.start = Math.min(s.start, Date.parse(o.createdAt));
      s.end = Math.max(s.end, Date.parse(o.updatedAt));
      spans.set(o.resource.id, s);
    }
    cursor = page.body.cursor;
  } while (cursor);
  return spans;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
