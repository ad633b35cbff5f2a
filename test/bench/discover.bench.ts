/**
 * `npm run bench:discover`: discovery, each part beside a peer measured in the same run, medians of
 * RUNS runs (default 5; ours and the peer alternate going first, after one untimed round where noted):
 * - ipmi: the discover task over 8 ipmi_sim blades vs the probe's ipmitool calls run by hand, one
 *   blade after the other (discover-ipmi.ts);
 * - libvirt: one test:/// seed of 200 domains vs the probe's virsh calls by hand (discover-libvirt.ts);
 * - storage: 50 sparse 64 MiB images hashed, then again with the digests known, vs sha256sum
 *   (discover-storage.ts);
 * - reconcile: reconcile() on 2000 x 2000 vs a Map lookup by serial (discover-reconcile.ts).
 * PARTS (comma-separated) picks some. Results also go to bench-results/discover.json. Needs ipmi_sim,
 * ipmitool, virsh and sha256sum, and ~300 MiB free in TMPDIR (200 MiB of it image data); takes about
 * 5.5 minutes on 2 cores, 4 of them libvirt's (403 virsh processes per run, on each side).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEED_CONCURRENCY } from '../../edge-agent/tasks/discover';
import { requireTool } from '../support/machines-host';
import { freeBytes } from './clone-fs';
import { type Figure, figureTable, Owed, type Ratio, ratioOf, ratioTable, stats } from './discover-common';
import { measureIpmi } from './discover-ipmi';
import { DOMAINS, measureLibvirt } from './discover-libvirt';
import { measureReconcile, type ReconcileResult } from './discover-reconcile';
import { DATA_BYTES, IMAGE_BYTES, IMAGES, measureStorage } from './discover-storage';

const RUNS = Number(process.env.RUNS ?? 5);
const ALL_PARTS = ['ipmi', 'libvirt', 'storage', 'reconcile'];
const PARTS = new Set((process.env.PARTS ?? ALL_PARTS.join(',')).split(','));
const MiB = 2 ** 20;
/** The images' data, and room beside it for the harness's state and a filesystem's slack. */
const FREE_NEEDED = DATA_BYTES + 100 * MiB;
const RESULTS = fileURLToPath(new URL('../../bench-results/discover.json', import.meta.url));

const RATIOS: Ratio[] = [
  {
    what: `IPMI discover wall / bare sequential (${SEED_CONCURRENCY} seeds at a time: < 1 expected)`,
    of: ['ipmi-wall', 'ipmi-bare-wall'],
  },
  { what: 'IPMI one seed / one blade by hand', of: ['ipmi-seed', 'ipmi-bare-blade'] },
  { what: 'libvirt discover / bare virsh', of: ['libvirt', 'libvirt-bare'] },
  { what: 'storage first run / sha256sum', of: ['storage-first', 'storage-sha256sum'] },
  { what: 'storage second run (digests known) / first run', of: ['storage-lazy', 'storage-first'] },
  { what: 'reconcile() / Map lookup by serial', of: ['reconcile', 'reconcile-peer'] },
];

async function prerequisites(): Promise<void> {
  const tools: Array<[string, string, string]> = [
    ['ipmi', 'ipmi_sim', 'openipmi'],
    ['ipmi', 'ipmitool', 'ipmitool'],
    ['libvirt', 'virsh', 'libvirt-clients'],
    ['storage', 'sha256sum', 'coreutils'],
  ];
  for (const [part, tool, pkg] of tools) if (PARTS.has(part)) await requireTool(tool, pkg);
  const free = freeBytes(tmpdir());
  if (PARTS.has('storage') && free < FREE_NEEDED)
    throw new Error(
      `the storage part writes ${DATA_BYTES / MiB} MiB of image data in ${tmpdir()} and needs ${FREE_NEEDED / MiB} MiB free there; ${(free / MiB).toFixed(0)} MiB are. Free space or set TMPDIR.`,
    );
}

async function main(): Promise<number> {
  if (!(RUNS >= 5)) throw new Error(`RUNS is ${process.env.RUNS}: medians need at least 5 runs`);
  const unknown = [...PARTS].filter((p) => !ALL_PARTS.includes(p));
  if (unknown.length) throw new Error(`PARTS names ${unknown.join(', ')}: pick from ${ALL_PARTS.join(', ')}`);
  console.log(
    `bench:discover: ${[...PARTS].join(', ')}; medians of ${RUNS} runs. Needs ipmi_sim, ipmitool, virsh, sha256sum and ~${FREE_NEEDED / MiB} MiB free in ${tmpdir()} (${IMAGES} sparse images, ${DATA_BYTES / MiB} MiB of data).`,
  );
  await prerequisites();
  const owed = new Owed();
  const onSignal = () => {
    void owed.all().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const figures: Figure[] = [];
    let reconciled: ReconcileResult | undefined;
    if (PARTS.has('ipmi')) figures.push(...(await measureIpmi(RUNS, owed)));
    if (PARTS.has('libvirt')) figures.push(...(await measureLibvirt(RUNS, owed)));
    if (PARTS.has('storage')) figures.push(...(await measureStorage(RUNS, owed)));
    if (PARTS.has('reconcile')) {
      reconciled = await measureReconcile(RUNS);
      figures.push(...reconciled.figures);
    }
    report(figures, reconciled);
    await save(figures, reconciled);
    return 0;
  } finally {
    await owed.all();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

function report(figures: Figure[], reconciled: ReconcileResult | undefined): void {
  const ratios = RATIOS.filter((r) => r.of.every((k) => figures.some((f) => f.key === k)));
  console.log(`\nbench:discover, ${new Date().toISOString()}, ${cpus().length} cores; medians of ${RUNS} runs`);
  console.log('(IPMI per-seed and per-blade rows pool every seed of every run; the peers run one thing at a time)\n');
  console.log(figureTable(figures));
  console.log(`\n${ratioTable(ratios, figures)}`);
  if (reconciled) {
    const c = reconciled.counts;
    console.log(
      `\nreconcile() decided: ${c.matched} matched (${c.changed} with changed fields), ${c.new} new, ${c.conflicts} conflicts;` +
        ` the Map by serial: ${reconciled.peerCounts.matched} matched, ${reconciled.peerCounts.new} new (it cannot match by MAC).`,
    );
  }
  const m = (key: string) => {
    const f = figures.find((x) => x.key === key);
    return f ? stats(f).median : undefined;
  };
  const libvirt = m('libvirt');
  if (libvirt !== undefined)
    console.log(
      `libvirt: ${((libvirt / DOMAINS) * 1000).toFixed(0)} ms per domain (two virsh processes each); the test driver re-reads its ${DOMAINS}-domain file in every virsh process, so both sides pay per call for the file's size.`,
    );
  const [first, sum] = [m('storage-first'), m('storage-sha256sum')];
  if (first !== undefined && sum !== undefined) {
    const mbps = (s: number) => ((IMAGES * IMAGE_BYTES) / 1e6 / s).toFixed(0);
    console.log(
      `storage: ${IMAGES * (IMAGE_BYTES / MiB)} MiB of image bytes hashed (holes included) at ${mbps(first)} MB/s by discover, ${mbps(sum)} MB/s by sha256sum; from the page cache.`,
    );
  }
}

async function save(figures: Figure[], reconciled: ReconcileResult | undefined): Promise<void> {
  await mkdir(dirname(RESULTS), { recursive: true });
  const host = {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryBytes: totalmem(),
    kernel: release(),
  };
  const ratios = Object.fromEntries(
    RATIOS.filter((r) => r.of.every((k) => figures.some((f) => f.key === k))).map((r) => [
      r.of.join('/'),
      ratioOf(r, figures),
    ]),
  );
  const results = {
    at: new Date().toISOString(),
    host,
    runs: RUNS,
    figures,
    ratios,
    reconcile: reconciled && { counts: reconciled.counts, peerCounts: reconciled.peerCounts },
  };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to ${RESULTS}`);
}

process.exitCode = await main().catch((err: Error) => {
  console.error(`bench:discover failed: ${err.message}`);
  return 1;
});
