/**
 * `npm run bench:clone`: the file driver's clone methods against the tools doing the same work, on an XFS
 * reflink filesystem (a loop file) holding a 3 GiB sparse raw master with 1 GiB of data; then parallel
 * cloning, t(n) for n clones at once, fitted beside the paper's curves. Results go to
 * bench-results/clone.json and bench-results/clone.svg. Needs root, xfsprogs, qemu-utils.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FileStorageDriver } from '../../edge-agent/drivers/storage/file';
import type { RepositoryRef } from '../../edge-agent/drivers/storage/interface';
import { breakdownTable, measureApiPath } from './clone-api';
import {
  checkPrerequisites,
  freeBytes,
  makeScatteredMaster,
  makeScratchFs,
  removeScratchFs,
  type ScratchFs,
  settle,
} from './clone-fs';
import { cloneSvg, type Series } from './clone-svg';
import { evalLinear, evalLog, linearFit, logFit } from './fit';
import { median } from './load';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const MASTER_BYTES = 3 * GiB;
const CHUNK_BYTES = 64 * MiB;
const DATA_CHUNKS = 16;
const DATA_BYTES = CHUNK_BYTES * DATA_CHUNKS;
/** Even, since ours and the peer alternate going first (the first after a settle can pay a late flush). */
const RUNS = 4;
const PARALLEL_N = [1, 2, 4, 8, 16];
/** Runs per n: reflink costs milliseconds, sparse writes n GiB each time. */
const PARALLEL_RUNS: Record<string, number> = { reflink: 3, sparse: 1 };
/** At n = 16 sparse clones the filesystem holds the master's data 17 times. */
const PEAK_BYTES = DATA_BYTES * (1 + Math.max(...PARALLEL_N));
const LOOP_BYTES = PEAK_BYTES + 3 * GiB;
const HOST_FREE_NEEDED = PEAK_BYTES + GiB;
const PAPER = { linear: { a: 53.6, b: 13 }, log: { a: 57.7, b: 38.6 }, master: '3 GB' };
const RESULTS = fileURLToPath(new URL('../../bench-results/clone.json', import.meta.url));
const PLOT = fileURLToPath(new URL('../../bench-results/clone.svg', import.meta.url));
const MASTER = 'masters/m.img';

const exec = promisify(execFile);

interface Peer {
  command: (src: string, dst: string) => [string, string[]];
}

/**
 * The same work as each method, by the usual tools. Each peer is also flushed (`sync FILE`), as our clones are.
 * `--reflink=never` keeps cp from sharing extents (it would, through copy_file_range, on XFS and btrfs).
 */
const PEERS: Record<string, Peer> = {
  copy: { command: (s, d) => ['cp', ['--reflink=never', s, d]] },
  sparse: { command: (s, d) => ['cp', ['--sparse=always', '--reflink=never', s, d]] },
  reflink: { command: (s, d) => ['cp', ['--reflink=always', s, d]] },
  overlay: { command: (s, d) => ['qemu-img', ['create', '-q', '-f', 'qcow2', '-b', s, '-F', 'raw', d]] },
};

interface Row {
  method: string;
  oursMs: number;
  peerMs: number;
  ratio: number;
  peerUnflushedMs: number;
  peer: string;
  runs: { oursMs: number[]; peerMs: number[]; peerUnflushedMs: number[] };
}

async function timePeer(peer: Peer, src: string, dst: string): Promise<{ total: number; unflushed: number }> {
  const [cmd, args] = peer.command(src, dst);
  const t0 = performance.now();
  await exec(cmd, args);
  const unflushed = performance.now() - t0;
  await exec('sync', [dst]);
  return { total: performance.now() - t0, unflushed };
}

/** Times our clone and the peer for every method, RUNS times, alternating which goes first. */
async function methodTable(
  driver: FileStorageDriver,
  repo: RepositoryRef,
  scratch: ScratchFs,
  sha256: string,
): Promise<Row[]> {
  const src = join(repo.path, MASTER);
  const runs = Object.fromEntries(
    Object.keys(PEERS).map((m) => [
      m,
      { oursMs: [] as number[], peerMs: [] as number[], peerUnflushedMs: [] as number[] },
    ]),
  );
  for (let r = 1; r <= RUNS; r++) {
    for (const [method, peer] of Object.entries(PEERS)) {
      const m = runs[method]!;
      const ours = async () => {
        const t0 = performance.now();
        await driver.clone(repo, MASTER, `table/${method}.img`, method, { sourceSha256: sha256 });
        m.oursMs.push(performance.now() - t0);
        await driver.remove(repo, `table/${method}.img`);
        settle(scratch);
      };
      const theirs = async () => {
        const p = await timePeer(peer, src, join(repo.path, `table/peer-${method}.img`));
        m.peerMs.push(p.total);
        m.peerUnflushedMs.push(p.unflushed);
        await driver.remove(repo, `table/peer-${method}.img`);
        settle(scratch);
      };
      for (const step of r % 2 ? [ours, theirs] : [theirs, ours]) await step();
      console.log(
        `run ${r}/${RUNS} ${method}: ours ${m.oursMs.at(-1)!.toFixed(1)} ms, peer ${m.peerMs.at(-1)!.toFixed(1)} ms`,
      );
    }
  }
  return Object.entries(PEERS).map(([method, peer]) => {
    const m = runs[method]!;
    const [cmd, args] = peer.command('M', 'C');
    const row = { oursMs: median(m.oursMs), peerMs: median(m.peerMs), peerUnflushedMs: median(m.peerUnflushedMs) };
    return { method, ...row, ratio: row.oursMs / row.peerMs, peer: `${cmd} ${args.join(' ')} && sync C`, runs: m };
  });
}

async function parallelSeries(
  driver: FileStorageDriver,
  repo: RepositoryRef,
  scratch: ScratchFs,
  method: string,
  sha256: string,
) {
  const seconds: number[] = [];
  const runs: number[][] = [];
  for (const n of PARALLEL_N) {
    const times: number[] = [];
    for (let r = 0; r < PARALLEL_RUNS[method]!; r++) {
      const names = Array.from({ length: n }, (_, i) => `parallel/${method}-${n}-${i}.img`);
      const t0 = performance.now();
      await Promise.all(names.map((dst) => driver.clone(repo, MASTER, dst, method, { sourceSha256: sha256 })));
      times.push((performance.now() - t0) / 1000);
      for (const dst of names) await driver.remove(repo, dst);
      settle(scratch);
    }
    runs.push(times);
    seconds.push(median(times));
    console.log(`${method} n=${n}: t = ${seconds.at(-1)!.toFixed(3)} s`);
  }
  return {
    method,
    ns: PARALLEL_N,
    seconds,
    runs,
    linear: linearFit(PARALLEL_N, seconds),
    log: logFit(PARALLEL_N, seconds),
  };
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const sec = (x: number) => x.toFixed(3);
const fitText = (f: { a: number; b: number; r2: number }, x: string) =>
  `t = ${f.a.toFixed(3)} + ${f.b.toFixed(3)}·${x} s (R² ${f.r2.toFixed(3)})`;

function report(rows: Row[], series: Array<Series & { runs: number[][] }>) {
  console.log(
    `\nmedians of ${RUNS} runs; master ${MASTER_BYTES / GiB} GiB raw with ${DATA_BYTES / GiB} GiB data; peers include \`sync FILE\`\n`,
  );
  console.log(
    table(
      ['method', 'ours ms', 'peer ms', 'ours/peer', 'peer w/o sync ms', 'peer'],
      rows.map((r) => [
        r.method,
        r.oursMs.toFixed(1),
        r.peerMs.toFixed(1),
        `${r.ratio.toFixed(2)}x`,
        r.peerUnflushedMs.toFixed(1),
        r.peer,
      ]),
    ),
  );
  const mbps = (ms: number) => MASTER_BYTES / 1e6 / (ms / 1000);
  const throughput = Object.fromEntries(
    ['copy', 'sparse'].map((method) => {
      const r = rows.find((row) => row.method === method)!;
      return [method, { oursMBps: mbps(r.oursMs), peerMBps: mbps(r.peerMs), fractionOfPeer: r.peerMs / r.oursMs }];
    }),
  );
  for (const [method, t] of Object.entries(throughput))
    console.log(
      `${method} (image bytes/s): ours ${t.oursMBps.toFixed(0)} MB/s, peer ${t.peerMBps.toFixed(0)} MB/s: ${(t.fractionOfPeer * 100).toFixed(0)}% of the peer (target 95%)`,
    );

  console.log(
    `\nparallel cloning: wall time t(n) for n clones at once, seconds (runs per n: ${JSON.stringify(PARALLEL_RUNS)}); ln = natural log`,
  );
  console.log(
    table(
      ['n', ...series.map((s) => `${s.method} t s`), 'paper 53.6+13n', 'paper 57.7+38.6 ln n'],
      PARALLEL_N.map((n, i) => [
        String(n),
        ...series.map((s) => sec(s.seconds[i]!)),
        sec(PAPER.linear.a + PAPER.linear.b * n),
        sec(PAPER.log.a + PAPER.log.b * Math.log(n)),
      ]),
    ),
  );
  for (const s of series)
    console.log(`${s.method.padEnd(8)} linear ${fitText(s.linear, 'n')}   log ${fitText(s.log, 'ln n')}`);
  console.log(
    `paper    linear t = 53.6 + 13·n s                   log t = 57.7 + 38.6·log n s   (${PAPER.master} master, SAN)`,
  );
  return throughput;
}

async function main(): Promise<number> {
  checkPrerequisites();
  const parent = tmpdir();
  const free = freeBytes(parent);
  if (free < HOST_FREE_NEEDED) {
    console.error(
      `bench:clone needs ${(HOST_FREE_NEEDED / GiB).toFixed(0)} GiB free in ${parent} (peak: ${PEAK_BYTES / GiB} GiB of clone data in a sparse loop file); ${(free / GiB).toFixed(1)} GiB are free. Free space or set TMPDIR.`,
    );
    return 1;
  }
  let scratch: ScratchFs | undefined;
  const cleanup = () => {
    if (scratch) removeScratchFs(scratch);
    scratch = undefined;
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    console.log(
      `making a ${LOOP_BYTES / GiB} GiB XFS reflink filesystem on a loop file in ${parent} and a ${MASTER_BYTES / GiB} GiB master...`,
    );
    scratch = makeScratchFs(parent, LOOP_BYTES);
    const repo: RepositoryRef = { id: 'bench', kind: 'file', path: scratch.mountPoint };
    await mkdir(join(repo.path, 'masters'));
    await makeScatteredMaster(join(repo.path, MASTER), MASTER_BYTES, CHUNK_BYTES, DATA_CHUNKS);
    const driver = new FileStorageDriver();
    const methods = await driver.methods(repo);
    if (methods[0] !== 'reflink')
      throw new Error(`the scratch filesystem should offer reflink first, it offers ${methods.join(', ')}`);
    const { sha256, allocatedBytes } = await driver.inspect(repo, MASTER);
    console.log(
      `master: ${MASTER_BYTES} bytes, ${allocatedBytes} allocated, sha256 ${sha256}; methods ${methods.join(', ')}`,
    );

    settle(scratch);
    const rows = await methodTable(driver, repo, scratch, sha256);
    const series = [
      await parallelSeries(driver, repo, scratch, 'reflink', sha256),
      await parallelSeries(driver, repo, scratch, 'sparse', sha256),
    ];
    const throughput = report(rows, series);

    console.log('\nthrough the API (POST /v1/clones until the operation succeeded), same master and filesystem:');
    const api = await measureApiPath(repo.path, MASTER, ['reflink', 'overlay', 'sparse', 'copy'], RUNS, () =>
      settle(scratch!),
    );
    console.log(
      table(
        ['method', 'API p50 ms', 'driver ms', 'API - driver ms', 'peer ms', 'peer/API'],
        api.map((a) => {
          const row = rows.find((r) => r.method === a.method);
          const [ours, peer] = [row?.oursMs ?? Number.NaN, row?.peerMs ?? Number.NaN];
          return [
            a.method,
            a.apiMs.toFixed(1),
            ours.toFixed(1),
            (a.apiMs - ours).toFixed(1),
            peer.toFixed(1),
            `${(peer / a.apiMs).toFixed(2)}`,
          ];
        }),
      ),
    );

    console.log(
      `\nwhere the API path's time goes (operation.timing, medians of ${RUNS} runs):\n${breakdownTable(api)}`,
    );

    await mkdir(join(RESULTS, '..'), { recursive: true });
    const host = {
      node: process.version,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryBytes: totalmem(),
      kernel: release(),
    };
    const setup = {
      filesystem: `XFS (mkfs.xfs -m reflink=1) on a ${LOOP_BYTES / GiB} GiB sparse loop file; fstrim + syncfs after each removal, untimed`,
      master: {
        sizeBytes: MASTER_BYTES,
        dataBytes: DATA_BYTES,
        allocatedBytes,
        layout: `${DATA_CHUNKS} random ${CHUNK_BYTES / MiB} MiB chunks scattered over ${MASTER_BYTES / CHUNK_BYTES} slots`,
        sha256,
      },
      runs: RUNS,
      parallelRuns: PARALLEL_RUNS,
      notes: [
        'ours: FileStorageDriver.clone() with sourceSha256 = the master\u2019s (hashed whole at import), which every method records instead of hashing the master again',
        'peer: the command shown, then `sync FILE` (our clones are flushed before they are renamed into place); ours and peer alternate which runs first',
        'page cache warm: the master is read from memory in every run; clones are written to the loop device and flushed',
        'log fits use the natural logarithm; the paper\u2019s formulas are quoted as published',
      ],
    };
    const fits = Object.fromEntries(series.map((s) => [s.method, { linear: s.linear, log: s.log }]));
    const predicted = Object.fromEntries(
      series.map((s) => [
        s.method,
        PARALLEL_N.map((n) => ({ n, linear: evalLinear(s.linear, n), log: evalLog(s.log, n) })),
      ]),
    );
    const results = {
      at: new Date().toISOString(),
      host,
      setup,
      methods: rows,
      api,
      throughput,
      parallel: series,
      fits,
      predicted,
      paper: PAPER,
    };
    await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(
      PLOT,
      cloneSvg(
        series,
        `Wall time of n clones at once of a 3 GiB raw master (1 GiB data) on XFS; fits use ln. ${new Date().toISOString().slice(0, 10)}`,
      ),
    );
    console.log(`\nwritten to ${RESULTS} and ${PLOT}`);
    return 0;
  } finally {
    cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

process.exitCode = await main().catch((err: Error) => {
  console.error(`bench:clone failed: ${err.message}`);
  return 1;
});
