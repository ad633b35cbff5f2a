/**
 * `npm run bench:deploy`: deployments through the whole local stack, from masters on an XFS scratch
 * filesystem (reflink clones, customized with a hostname per member, attached, activated).
 *
 * - `sim`: n sim machines from one ext4 master, for n = 10, 25, 50, 100 (SIZES). Prints each run's
 *   wall time, the per-member median and p95 (a member's first operation accepted to its last one
 *   ended), and the straight line t = a + b·n through the wall times beside the paper's 53.6 + 13·n s
 *   (Table 2, its deployment of n blades).
 * - `qemu`: 4 qemu machines (TCG) that really boot one busybox master. Prints the wall time from the
 *   request until all four consoles show their hostnames, and until the deployment's operation ended,
 *   beside the paper's time for 4 blades.
 *
 * PARTS picks the parts (default `sim,qemu`, in that order). Medians of RUNS runs (default 3). Needs
 * root (a loop mount) and 2 GiB free in TMPDIR; the qemu part needs qemu, a kernel and busybox.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemuMachineDriver } from '../../edge-agent/drivers/machine/qemu/driver';
import { startStack } from '../../infra/local/stack';
import { type MachineRef, machineRef } from '../../statemachines/tasks';
import { Api } from '../support/api';
import { bootKernel, makeBootableRoot } from '../support/bootable';
import { baseFiles, hostnameItems, makeExt4 } from '../support/images';
import { checkPrerequisites, freeBytes, makeScratchFs, removeScratchFs } from './clone-fs';
import { linearFit } from './fit';
import { median, quantile } from './load';

const SIZES = (process.env.SIZES ?? '10,25,50,100').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 3);
const PARTS = (process.env.PARTS ?? 'sim,qemu').split(',');
const QEMU_MACHINES = 4;
const GiB = 1024 ** 3;
const PAPER = { a: 53.6, b: 13 };

async function main() {
  checkPrerequisites();
  const unknown = PARTS.filter((p) => p !== 'sim' && p !== 'qemu');
  if (unknown.length) throw new Error(`PARTS names ${unknown.join(', ')}; the parts are sim and qemu`);
  const qemuKit = PARTS.includes('qemu') ? checkQemu() : undefined;
  const free = freeBytes(tmpdir());
  if (free < 2 * GiB)
    throw new Error(
      `bench:deploy needs 2 GiB free in ${tmpdir()}; ${(free / GiB).toFixed(1)} GiB are free. Free space or set TMPDIR.`,
    );
  const scratch = makeScratchFs(tmpdir(), 8 * GiB);
  const home = await mkdtemp(join(tmpdir(), 'encompass-bench-deploy-'));
  const stack = await startStack({ home, port: 0, log: () => undefined });
  const api = new Api(stack.url, stack.adminToken);
  const qemuState = join(home, 'agent/state/qemu');
  try {
    const repoDir = join(scratch.mountPoint, 'repo');
    await mkdir(repoDir);
    const repo = await api.createRepository({ name: 'bench', site: 'local', kind: 'file', path: repoDir });
    if (repo.status !== 201) throw new Error(JSON.stringify(repo.body));
    if (PARTS.includes('sim')) await simPart(api, repoDir);
    if (qemuKit) await qemuPart(api, new QemuMachineDriver({ stateDir: qemuState }), repoDir, qemuKit);
  } finally {
    await stopQemus(qemuState);
    await stack.stop();
    await rm(home, { recursive: true, force: true });
    removeScratchFs(scratch);
  }
}

/** n sim machines per deployment, for each n of SIZES. */
async function simPart(api: Api, repoDir: string) {
  await makeExt4(join(repoDir, 'masters/base.img'), baseFiles, 64);
  const imported = await api.run('/v1/masters', {
    name: 'base',
    repository: 'bench',
    path: 'masters/base.img',
    customization: hostnameItems,
  });
  if (imported.status !== 'succeeded') throw new Error(JSON.stringify(imported));

  console.log(`bench:deploy: ${RUNS} run(s) per size, sizes ${SIZES.join(', ')}; sim machines, reflink clones on XFS`);
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
}

/** Throws with what to install when the qemu part cannot boot a machine; else the kernel to boot. */
function checkQemu() {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'the qemu part of bench:deploy needs qemu-system-x86_64: apt-get install qemu-system-x86 (or PARTS=sim)',
    );
  }
  return bootKernel();
}

/** QEMU_MACHINES qemu machines booting one busybox master through a deployment, RUNS times. */
async function qemuPart(api: Api, qemu: QemuMachineDriver, repoDir: string, kit: { kernel: string; initrd: string }) {
  await makeBootableRoot(join(repoDir, 'masters/boot.img'), { sizeMiB: 24 });
  const imported = await api.run('/v1/masters', {
    name: 'boot',
    repository: 'bench',
    path: 'masters/boot.img',
    customization: hostnameItems,
  });
  if (imported.status !== 'succeeded') throw new Error(JSON.stringify(imported));
  const machines: MachineRef[] = [];
  for (let i = 1; i <= QEMU_MACHINES; i++) {
    const m = await api.post('/v1/machines', {
      name: `bench-qemu-m${i}`,
      site: 'local',
      kind: 'qemu',
      cpus: 1,
      memoryMiB: 512,
      identity: { macs: [`52:54:00:00:02:${String(i).padStart(2, '0')}`] },
      settings: { kernel: kit.kernel, initrd: kit.initrd, memoryMiB: 512, bootTimeoutSeconds: 300 },
    });
    if (m.status !== 201) throw new Error(JSON.stringify(m.body));
    machines.push(machineRef.parse(m.body));
  }
  console.log(
    `bench:deploy qemu: ${RUNS} run(s) of ${QEMU_MACHINES} qemu machines (TCG, 1 vCPU, 256 MiB each) booting a 24 MiB busybox master, reflink clones on XFS`,
  );
  console.log(' run | consoles show the hostnames s | operation ended s');
  const runs: { consoles: number; operation: number }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const tag = `bench-qemu-${run}`;
    const t0 = Date.now();
    const r = await api.post('/v1/deployments', {
      master: 'boot',
      machines: machines.map((m) => m.name),
      name: `${tag}-\${index}`,
      variables: { hostname: `${tag}-\${index}` },
      method: 'reflink',
    });
    if (r.status !== 202) throw new Error(JSON.stringify(r.body));
    const deadline = t0 + 15 * 60_000;
    // Each console is emptied at its machine's power-on and the hostnames are new in each run.
    const shown = machines.map(async (m, i) => {
      while (!(await qemu.console(m)).includes(`ENCOMPASS-HOSTNAME: ${tag}-${i + 1}`)) {
        if (Date.now() > deadline) throw new Error(`${m.name}: its console never showed ${tag}-${i + 1}`);
        await sleep(100);
      }
    });
    const operation = api.wait(r.body.operation, 15 * 60_000).then((op) => ({ op, at: Date.now() }));
    await Promise.all(shown);
    const consoles = (Date.now() - t0) / 1000;
    const { op, at } = await operation;
    if (op.status !== 'succeeded')
      throw new Error(`deployment of ${QEMU_MACHINES} qemu machines failed: ${JSON.stringify(op.error)}`);
    runs.push({ consoles, operation: (at - t0) / 1000 });
    console.log(
      `${String(run).padStart(4)} | ${consoles.toFixed(1).padStart(29)} | ${((at - t0) / 1000).toFixed(1).padStart(17)}`,
    );
    // Powers the machines off and destroys the clones, so the next run starts from the same machines.
    const del = await api.del(`/v1/deployments/${r.body.id}`);
    if (del.status !== 202) throw new Error(JSON.stringify(del.body));
    const deleted = await api.wait(del.body.operation, 10 * 60_000);
    if (deleted.status !== 'succeeded') throw new Error(`teardown failed: ${JSON.stringify(deleted.error)}`);
  }
  const wall = median(runs.map((x) => x.consoles));
  const paper = PAPER.a + PAPER.b * QEMU_MACHINES;
  console.log(
    `median: all ${QEMU_MACHINES} consoles show their hostnames after ${wall.toFixed(1)} s, the operation ended after ${median(runs.map((x) => x.operation)).toFixed(1)} s; the paper: ${paper.toFixed(1)} s for ${QEMU_MACHINES} blades (${(paper / wall).toFixed(1)}×)`,
  );
}

/** Kills, by PID, any qemu process the agent still records as running (a run cut short). */
async function stopQemus(stateDir: string) {
  const files = await readdir(stateDir).catch(() => [] as string[]);
  for (const file of files.filter((f) => /^qemu-.*\.json$/.test(f))) {
    const proc = JSON.parse(await readFile(join(stateDir, file), 'utf8')).process;
    if (!proc) continue;
    const argv = await readFile(`/proc/${proc.pid}/cmdline`, 'utf8').catch(() => '');
    if (!argv.split('\0').includes(proc.tag)) continue;
    process.kill(proc.pid, 'SIGKILL');
    console.error(`cleanup: killed qemu ${proc.pid} (${file}), which was still running`);
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
