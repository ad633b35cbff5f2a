/**
 * `npm start` as a user runs it, stopped every way a user (or a crash) stops it: Ctrl-C with work
 * in hand stops every part within 5 s and leaves no partial file; a second stack on the same home is
 * refused; SIGKILL of the stack, or of npm, leaves no child behind; and a stack killed while some of
 * its children hung is taken over by the next start, which stops them first. Processes are checked by
 * PID, from the stack's record (stack.json).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/ports';
import { isRunning, type ProcessRef } from '../../../infra/local/procs';
import { Api } from '../../support/api';
import { tempDir } from './helpers';
import { allGone, until } from './stack-process';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MASTER_BYTES = 6 * 1024 ** 3;
const CLONES = 6;

interface Started {
  npm: ChildProcess;
  output: () => string;
  /** npm's exit: its code, or the signal it re-raised on itself (npm ends by the Ctrl-C it forwarded). */
  exited: Promise<number | string | null>;
  stack: ProcessRef;
  children: Record<string, ProcessRef>;
  api: Api;
}

describe('npm start', () => {
  let home: Awaited<ReturnType<typeof tempDir>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let port: number;
  const all: ProcessRef[] = [];
  const npms: ChildProcess[] = [];

  /** Runs `npm start` in a process group of its own, as a terminal runs a foreground job. */
  async function start(): Promise<Started> {
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, ENCOMPASS_HOME: home.path, ENCOMPASS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    npms.push(npm);
    let out = '';
    for (const s of [npm.stdout!, npm.stderr!])
      s.on('data', (c: Buffer) => {
        out += c.toString();
      });
    const exited = new Promise<number | string | null>((resolve) => npm.once('exit', (c, sig) => resolve(c ?? sig)));
    await until('ENCOMPASS is up', 180_000, () => {
      expect(npm.exitCode, out).toBeNull();
      return out.includes('ENCOMPASS is up') ? true : undefined;
    });
    const record = JSON.parse(await readFile(join(home.path, 'stack.json'), 'utf8'));
    const stack: ProcessRef = { pid: record.pid, startTicks: record.startTicks, tag: 'start.ts' };
    const children = record.children as Record<string, ProcessRef>;
    expect(Object.keys(children).sort()).toEqual(['DynamoDB Local', 'S3 server', 'edge agent', 'workerd']);
    all.push(stack, ...Object.values(children));
    const token = (await readFile(join(home.path, 'admin-token'), 'utf8')).trim();
    // Every URL the banner shows answers (the console's log-in page, the OpenAPI document, the API itself).
    const banner = out.slice(out.indexOf('ENCOMPASS is up'));
    const urls = [...new Set(banner.match(/https?:\/\/[^\s)]+/g))];
    expect(urls.length, banner).toBeGreaterThanOrEqual(3);
    for (const url of urls) expect((await fetch(url)).status, `${url}, shown in the banner`).toBe(200);
    return { npm, output: () => out, exited, stack, children, api: new Api(`http://127.0.0.1:${port}`, token) };
  }

  const temps = async () => (await readdir(join(data.path, 'clones')).catch(() => [])).filter((n) => n.includes('tmp'));

  beforeAll(async () => {
    home = await tempDir('npm-start');
    data = await tempDir('npm-start-repo');
    port = await freePort();
    await mkdir(join(data.path, 'masters'));
    // Preallocated: its extents read as zeros without disk I/O, so a sparse clone reads them all and writes none.
    execFileSync('fallocate', ['-l', String(MASTER_BYTES), join(data.path, 'masters/zero.img')]);
  });

  /** Kills whatever a test left running (one that failed midway), so that its stack does not hold the home. */
  async function killLeftovers() {
    for (const p of all) if (isRunning(p)) process.kill(p.pid, 'SIGKILL');
    for (const n of npms) if (n.exitCode === null && n.signalCode === null) n.kill('SIGKILL');
    await until('leftovers gone', 10_000, () => (all.some((p) => isRunning(p)) ? undefined : true));
  }

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await killLeftovers();
  }, 30_000);

  afterAll(async () => {
    await killLeftovers();
    await home?.remove();
    await data?.remove();
  }, 30_000);

  it('refuses a busy port before starting any part, naming ENCOMPASS_PORT, and a port that is no number', async () => {
    const busy = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => busy.listen(taken, '127.0.0.1', resolve));
    const empty = await tempDir('npm-start-busy');
    try {
      const run = (envPort: string) => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
          cwd: ROOT,
          env: { ...process.env, ENCOMPASS_HOME: empty.path, ENCOMPASS_PORT: envPort },
          encoding: 'utf8',
          timeout: 60_000,
        });
        return { status: r.status, said: r.stdout + r.stderr };
      };
      const onBusy = run(String(taken));
      expect(onBusy.status, onBusy.said).toBe(1);
      expect(onBusy.said).toContain(`Port ${taken} on 127.0.0.1 is in use`);
      expect(onBusy.said).toContain('ENCOMPASS_PORT=');
      expect(onBusy.said).not.toMatch(/kj::Exception|--port|Warning/);
      // Nothing was started: the home holds no record and no logs.
      expect(await readdir(empty.path)).toEqual([]);
      const garbage = run('eighty');
      expect(garbage.status, garbage.said).toBe(2);
      expect(garbage.said).toContain('ENCOMPASS_PORT is "eighty"');
    } finally {
      await new Promise((resolve) => busy.close(resolve));
      await empty.remove();
    }
  });

  it('stops every part within 5 s of Ctrl-C with clones being copied, leaving no process and no partial file; a second stack on its home is refused', async () => {
    const s = await start();
    const repo = await s.api.createRepository({ name: 'nas', site: 'local', kind: 'file', path: data.path });
    expect(repo.status, JSON.stringify(repo.body)).toBe(201);
    const master = await s.api.run('/v1/masters', {
      name: 'zero',
      repository: 'nas',
      path: 'masters/zero.img',
      format: 'raw',
    });
    expect(master.status, JSON.stringify(master)).toBe('succeeded');
    // A second stack on the same home is refused (checked first: it takes longer than the copies).
    const second = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, ENCOMPASS_HOME: home.path, ENCOMPASS_PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    for (const out of [second.stdout!, second.stderr!])
      out.on('data', (c: Buffer) => {
        said += c.toString();
      });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      second.once('exit', (c, sig) => resolve([c, sig])),
    );
    expect({ code, signal }, said).toEqual({ code: 1, signal: null });
    expect(said).toContain(`Another ENCOMPASS stack (PID ${s.stack.pid}) is running on ${home.path}`);

    for (let i = 1; i <= CLONES; i++)
      expect((await s.api.post('/v1/clones', { master: 'zero', name: `c${i}`, method: 'sparse' })).status).toBe(202);
    await until('copies under way', 60_000, async () => ((await temps()).length >= 2 ? true : undefined));

    expect(await temps(), 'the copies ended before the Ctrl-C; use a larger master').not.toEqual([]);
    // Ctrl-C: the terminal signals the whole foreground group (npm, sh, the stack).
    process.kill(-s.npm.pid!, 'SIGINT');
    const ms = await allGone([s.stack, ...Object.values(s.children)], 10_000);
    expect(ms, s.output()).toBeLessThan(5000);
    expect([0, 'SIGINT']).toContain(await s.exited);
    expect(await temps()).toEqual([]);
    expect(s.output()).toMatch(/stopped in \d/);

    // The home and everything the stack made in it are the user's alone.
    const modes: string[] = [];
    const walk = async (dir: string) => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        const mode = (await stat(path)).mode & 0o777;
        if (mode !== (e.isDirectory() ? 0o700 : 0o600)) modes.push(`${mode.toString(8)} ${path}`);
        if (e.isDirectory()) await walk(path);
      }
    };
    expect((await stat(home.path)).mode & 0o777).toBe(0o700);
    await walk(home.path);
    expect(modes).toEqual([]);
  }, 300_000);

  it('ends the clones the Ctrl-C cut short as interrupted: control_plane_restarted, and no file lacks its record; SIGKILL of the stack then leaves no child', async () => {
    const s = await start();
    const ops = (await s.api.get('/v1/operations?limit=100')).body.items as any[];
    const clones = ops.filter((o) => o.kind === 'clone');
    expect(clones).toHaveLength(CLONES);
    for (const op of clones)
      if (op.status !== 'succeeded')
        expect(op).toMatchObject({
          status: 'failed',
          error: { code: 'interrupted', reason: 'control_plane_restarted' },
        });
    // Cut short, every copy was removed (and clones/ with the last); the ones that finished are recorded.
    const records = ((await s.api.get('/v1/clones?limit=100')).body.items as any[]).map((c) => c.path);
    const files = (await readdir(join(data.path, 'clones')).catch(() => [] as string[])).map((n) => `clones/${n}`);
    // A clone that finished has its sidecar beside it (`<image>.encompass`: who made it).
    expect(files.filter((f) => !f.endsWith('.encompass')).sort()).toEqual(records.sort());
    expect(files.filter((f) => f.endsWith('.encompass')).sort()).toEqual(records.map((r) => `${r}.encompass`).sort());

    process.kill(s.stack.pid, 'SIGKILL');
    await allGone(Object.values(s.children), 10_000);
    expect(await s.exited).not.toBe(0);
  }, 300_000);

  it('takes over the home of a stack killed while its children hung, stopping them first; SIGKILL of npm stops the stack', async () => {
    const hung = await start();
    const stuck = [hung.children['DynamoDB Local']!, hung.children['edge agent']!];
    for (const p of stuck) process.kill(p.pid, 'SIGSTOP');
    process.kill(hung.stack.pid, 'SIGKILL');
    await allGone([hung.children['S3 server']!, hung.children.workerd!], 10_000);
    await sleep(500);
    for (const p of stuck) expect(isRunning(p), `${p.tag} still there, stopped`).toBe(true);

    const next = await start();
    expect(next.output()).toMatch(
      new RegExp(
        `stopping what it left running: edge agent \\(PID ${stuck[1]!.pid}\\), DynamoDB Local \\(PID ${stuck[0]!.pid}\\)`,
      ),
    );
    for (const p of stuck) expect(isRunning(p)).toBe(false);
    expect((await next.api.get('/v1/health')).status).toBe(200);

    // `npm start` is npm, sh and the stack: killing npm ends them all.
    process.kill(next.npm.pid!, 'SIGKILL');
    await allGone([next.stack, ...Object.values(next.children)], 10_000);
  }, 400_000);
});
