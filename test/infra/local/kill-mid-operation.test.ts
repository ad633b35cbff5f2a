/**
 * kill -9 of each part of the stack in the middle of a customize and of an attach: DynamoDB Local,
 * the S3 server, workerd (the functions), the edge agent, and the stack's own process (the Step
 * Functions endpoint and the secret store, which takes every part down with it). The stack runs as
 * `npm start` runs it, in a process of its own.
 *
 * A part the stack starts again lets the operation succeed. The stack killed as a whole ends it as
 * interrupted at its next start, and the agent undoes what the task did (rollback, detach). Either
 * way nothing is left behind: no operation running, the image holding exactly what its record says
 * (a rollback to zero then restores the master's files byte for byte), no export or attached disk
 * the records do not show, no file in the repository without its record, and no process that
 * mentions the stack's home outside the running stack.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/ports';
import { isRunning, type ProcessRef } from '../../../infra/local/procs';
import type { ChildName } from '../../../infra/local/stack';
import type { Api } from '../../support/api';
import { unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, makeExt4 } from '../../support/images';
import { tempDir } from './helpers';
import { allGone, orphans, type StackProcess, startStackProcess, until } from './stack-process';

/**
 * A customize is one read, one write and its read-back: to land a kill between the image's change and
 * the agent's answer, the stack runs a wrapper of the real debugfs (a test double of its timing only)
 * that lingers after every run that writes.
 */
const LINGER_SECONDS = 3;
const ITEMS = Array.from({ length: 80 }, (_, i) => ({ type: 'file', path: `/etc/k${i}`, content: `k${i}\n` }));
const TOUCHED = ['/etc/hostname', '/etc/hosts', ...ITEMS.map((i) => i.path)];
/** How long the simulated machine takes to attach a disk: the kill lands inside it. */
const ATTACH_SECONDS = 3;
const PARTS: ChildName[] = ['DynamoDB Local', 'S3 server', 'workerd', 'edge agent'];

describe('kill -9 in the middle of an operation', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let port: number;
  let stack: StackProcess;
  let api: Api;
  let repoDir: string;
  let master: string;
  const seen: ProcessRef[] = [];
  const figures: string[] = [];

  const agentState = () => join(home.path, 'agent/state');
  const agentLog = () => readFile(join(home.path, 'logs/agent.log'), 'utf8');

  async function start() {
    stack = await startStackProcess(home.path, port, { PATH: `${join(home.path, 'bin')}:${process.env.PATH}` });
    api = stack.api;
    seen.push(stack.ref, ...Object.values(await stack.children()));
  }

  beforeAll(async () => {
    home = await tempDir('kill-mid');
    port = await freePort();
    const debugfs = execFileSync('sh', ['-c', 'command -v debugfs'], { encoding: 'utf8' }).trim();
    await mkdir(join(home.path, 'bin'));
    await writeFile(
      join(home.path, 'bin/debugfs'),
      // It lingers only while the agent that ran it lives, so a killed agent leaves no wrapper behind.
      `#!/bin/sh\n${debugfs} "$@"; rc=$?\ncase " $* " in *" -w "*) i=0; while [ $i -lt ${LINGER_SECONDS * 20} ] && kill -0 $PPID 2>/dev/null; do sleep 0.05; i=$((i+1)); done;; esac\nexit $rc\n`,
      { mode: 0o755 },
    );
    await start();
    repoDir = join(home.path, 'repo');
    await mkdir(repoDir);
    await makeExt4(join(repoDir, 'masters/base.img'), baseFiles);
    const repo = unique('repo');
    expect((await api.createRepository({ name: repo, site: 'local', kind: 'file', path: repoDir })).status).toBe(201);
    master = unique('master');
    const op = await api.run('/v1/masters', { name: master, repository: repo, path: 'masters/base.img' });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
  }, 240_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(stack.output().split('\n').slice(-40).join('\n'));
  });

  afterAll(async () => {
    console.log(figures.join('\n'));
    for (const p of seen) if (isRunning(p)) process.kill(p.pid, 'SIGKILL');
    await allGone(seen, 10_000).catch(() => undefined);
    await home?.remove();
  }, 30_000);

  /** The files the customization touches, as the image holds them (a missing file reads as empty). */
  async function contents(image: string): Promise<string> {
    const h = createHash('sha256');
    for (const path of TOUCHED) h.update(`${path}\0${await debugfsCat(image, path)}\0`);
    return h.digest('hex');
  }

  async function newClone() {
    const name = unique('c');
    const op = await api.run('/v1/clones', { master, name });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    return (await api.get(`/v1/clones/${name}`)).body as { id: string; path: string };
  }

  /** Kills `part` with SIGKILL and resolves once the stack has a new one (how long that took, in ms). */
  async function kill(part: ChildName): Promise<number> {
    const before = (await stack.children())[part];
    const t0 = Date.now();
    process.kill(before.pid, 'SIGKILL');
    const now = await until(`${part} started again`, 60_000, async () => {
      const ref = (await stack.children())[part];
      return ref.pid !== before.pid && !isRunning(before) ? ref : undefined;
    });
    seen.push(now);
    return Date.now() - t0;
  }

  /** Kills the stack's own process, checks that every part went with it, and starts the stack again. */
  async function killStack(): Promise<number> {
    const parts = Object.values(await stack.children());
    process.kill(stack.ref.pid, 'SIGKILL');
    const goneMs = await allGone([stack.ref, ...parts], 15_000);
    // A debugfs wrapper whose agent was killed notices within 50 ms and ends.
    await until('no wrapper left', 2000, () => (orphans(home.path, []).length ? undefined : true), 20).catch(
      () => undefined,
    );
    expect(orphans(home.path, []), 'processes left by the killed stack').toEqual([]);
    await start();
    return goneMs;
  }

  async function nothingLeftBehind() {
    const ops = (await api.get('/v1/operations?limit=500')).body.items as { id: string; status: string }[];
    expect(ops.filter((o) => o.status === 'running').map((o) => o.id)).toEqual([]);
    const clones = (await api.get('/v1/clones?limit=500')).body.items as { path: string; status: string }[];
    const recorded = new Set(clones.filter((c) => c.status !== 'destroyed').map((c) => c.path));
    const files = (await readdir(join(repoDir, 'clones')).catch(() => [] as string[])).map((n) => `clones/${n}`);
    expect(files.filter((f) => !recorded.has(f) && !recorded.has(f.replace(/\.encompass$/, '')))).toEqual([]);
    const roots = [stack.ref.pid, ...Object.values(await stack.children()).map((c) => c.pid)];
    expect(orphans(home.path, roots), 'processes outside the running stack').toEqual([]);
    expect((await api.get('/v1/health')).body.status).toBe('ok');
  }

  /** Starts a customize of a fresh clone and resolves once the agent has written the image, before it answers. */
  async function customizeUnderWay() {
    const clone = await newClone();
    const image = join(repoDir, clone.path);
    const before = await contents(image);
    const r = await api.post(`/v1/clones/${clone.id}/customize`, { items: ITEMS });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const progress = await until(
      'the image read',
      60_000,
      async () => {
        const op = (await api.get(`/v1/operations/${r.body.operation}`)).body;
        expect(op.status).toBe('running');
        return op.progress >= 0.25 ? op.progress : undefined;
      },
      20,
    );
    expect(progress, 'the customize ended before the kill').toBeLessThan(0.9);
    // The write run takes well under a second; the wrapper then lingers for LINGER_SECONDS.
    await new Promise((r) => setTimeout(r, 700));
    return { clone, image, before, operation: r.body.operation as string, progress };
  }

  /** A machine bound to a fresh clone, and an attach that the agent is inside of. */
  async function attachUnderWay() {
    const clone = await newClone();
    const machine = (
      await api.post('/v1/machines', {
        name: unique('m'),
        site: 'local',
        kind: 'sim',
        settings: { attachSeconds: ATTACH_SECONDS },
      })
    ).body;
    const assigned = await api.run(`/v1/clones/${clone.id}/assign`, { machine: machine.id });
    expect(assigned.status, JSON.stringify(assigned)).toBe('succeeded');
    const r = await api.post(`/v1/clones/${clone.id}/attach`);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const operation = r.body.operation as string;
    // The agent journals a task before it runs it; the export comes first, then the slow machine.
    await until(
      'the attach exported',
      30_000,
      async () => ((await exportsOf(machine.id)).length ? true : undefined),
      20,
    );
    return { clone, machine, operation };
  }

  const exportsOf = async (machine: string) =>
    (JSON.parse(await readFile(join(agentState(), 'exports.json'), 'utf8').catch(() => '[]')) as any[]).filter(
      (e) => e.access.machine === machine,
    );
  const simDisk = async (machine: string) =>
    JSON.parse(
      await readFile(join(agentState(), `machines/sim-${encodeURIComponent(machine)}.json`), 'utf8').catch(() => '{}'),
    ).disk;

  for (const part of PARTS)
    it(`customize: ${part} killed between the image’s change and the agent’s answer is started again, and the customize succeeds`, async () => {
      const { clone, image, before, operation, progress } = await customizeUnderWay();
      const ms = await kill(part);
      figures.push(`customize, ${part} killed at ${Math.round(progress * 100)}%: back in ${ms} ms`);
      const op = await api.wait(operation, 120_000);
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      for (const item of ITEMS.slice(0, 3)) expect(await debugfsCat(image, item.path)).toBe(item.content);
      expect(await debugfsCat(image, ITEMS.at(-1)!.path)).toBe(ITEMS.at(-1)!.content);
      expect((await api.get(`/v1/clones/${clone.id}`)).body.customization).toMatchObject({
        applied: ITEMS.length,
        pending: 0,
      });
      // The undo records are whole: rolling back restores every touched file.
      const back = await api.run(`/v1/clones/${clone.id}/rollback`, { to: 0 });
      expect(back.status, JSON.stringify(back)).toBe('succeeded');
      expect(await contents(image)).toBe(before);
      await nothingLeftBehind();
    }, 240_000);

  it('customize: the stack killed between the image’s change and the agent’s answer leaves every part gone; the next start ends the operation as interrupted and the agent rolls the image back', async () => {
    const { clone, image, before, operation, progress } = await customizeUnderWay();
    const ms = await killStack();
    figures.push(`customize, the stack killed at ${Math.round(progress * 100)}%: every part gone in ${ms} ms`);
    const op = await api.wait(operation, 60_000);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'interrupted', reason: 'control_plane_restarted' } });
    await until('the agent undid the customize', 60_000, async () =>
      (await agentLog()).includes(
        `customize ${operation}: its workflow no longer waits for it; the change to the image undone (rollback)`,
      )
        ? true
        : undefined,
    );
    expect(await contents(image)).toBe(before);
    const c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c.lock).toBeUndefined();
    expect(c.customization).toMatchObject({ applied: 0 });
    // Nothing stale in the way: the same customize now succeeds.
    const again = await api.run(`/v1/clones/${clone.id}/customize`, { items: ITEMS });
    expect(again.status, JSON.stringify(again)).toBe('succeeded');
    expect(await debugfsCat(image, ITEMS.at(-1)!.path)).toBe(ITEMS.at(-1)!.content);
    await nothingLeftBehind();
  }, 300_000);

  for (const part of PARTS)
    it(`attach: ${part} killed while the machine takes the disk is started again, and the attach succeeds`, async () => {
      const { clone, machine, operation } = await attachUnderWay();
      const ms = await kill(part);
      figures.push(`attach, ${part} killed: back in ${ms} ms`);
      const op = await api.wait(operation, 120_000);
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect((await api.get(`/v1/clones/${clone.id}`)).body.binding).toBe('attached');
      expect(await exportsOf(machine.id)).toHaveLength(1);
      expect(await simDisk(machine.id)).toBeDefined();
      // And back: the machine lets go, the export goes.
      const detached = await api.run(`/v1/clones/${clone.id}/detach`);
      expect(detached.status, JSON.stringify(detached)).toBe('succeeded');
      expect(await exportsOf(machine.id)).toEqual([]);
      expect(await simDisk(machine.id)).toBeUndefined();
      await nothingLeftBehind();
    }, 240_000);

  it('attach: the stack killed while the machine takes the disk leaves every part gone; the next start ends the operation as interrupted and the agent withdraws the export', async () => {
    const { clone, machine, operation } = await attachUnderWay();
    const ms = await killStack();
    figures.push(`attach, the stack killed: every part gone in ${ms} ms`);
    const op = await api.wait(operation, 60_000);
    expect(op).toMatchObject({ status: 'failed', error: { code: 'interrupted', reason: 'control_plane_restarted' } });
    await until('the agent undid the attach', 60_000, async () =>
      (await agentLog()).includes(
        `attach ${operation}: its workflow no longer waits for it; the export and the machine's disk undone (detach)`,
      )
        ? true
        : undefined,
    );
    expect(await exportsOf(machine.id)).toEqual([]);
    expect(await simDisk(machine.id)).toBeUndefined();
    const c = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(c).toMatchObject({ binding: 'assigned' });
    expect(c.lock).toBeUndefined();
    const again = await api.run(`/v1/clones/${clone.id}/attach`);
    expect(again.status, JSON.stringify(again)).toBe('succeeded');
    expect(await exportsOf(machine.id)).toHaveLength(1);
    await nothingLeftBehind();
  }, 300_000);
});
