/** The built command line client (infra/cli/dist/encompass.mjs), run as a user runs it, against the test stack. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bar } from '../../../infra/cli/progress';
import { Api } from '../../support/api';
import { makeMachine, makeRepository, unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, hostnameItems, makeExt4 } from '../../support/images';

const run = promisify(execFile);
const BUILD = fileURLToPath(new URL('../../../infra/cli/build.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../../infra/cli/dist/encompass.mjs', import.meta.url));
const s = inject('stack');
const env = { ...process.env, ENCOMPASS_URL: s.url, ENCOMPASS_TOKEN: s.adminToken, ENCOMPASS_CONFIG: '' };

/** Runs the CLI; answers its exit code, stdout and stderr (a failing exit is not thrown). */
async function cli(args: string[], extra: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...env, ...extra } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** A port nothing listens on: one the system handed out and that was closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  await run(process.execPath, [BUILD]);
}, 60_000);

describe('the encompass CLI', () => {
  it('draws a progress bar', () => {
    expect(bar(0.5, 'copy', 10)).toBe('[#####.....]  50%  copy');
    expect(bar(1.7, 'x', 4)).toBe('[####] 100%  x');
  });

  it('offers a flag for every query parameter of every list in the OpenAPI document', async () => {
    const doc = (await Api.admin().get('/v1/openapi.json')).body;
    const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
      const list = /^\/v1\/([a-z-]+)$/.exec(path);
      const params = ((item.get?.parameters ?? []) as { in: string; name: string }[]).filter((p) => p.in === 'query');
      if (!list || !params.length) continue;
      const command = ({ discoveries: 'discovery', operations: 'ops' } as Record<string, string>)[list[1]!] ?? list[1]!;
      let help = await cli([command, 'list', '--help']);
      if (!help.stdout.startsWith(`Usage: encompass ${command} list`)) help = await cli([command, '--help']);
      expect(help.stdout, `encompass ${command} --help`).toMatch(new RegExp(`^Usage: encompass ${command}[ |]`));
      for (const p of params) expect(help.stdout, `${path}?${p.name}`).toContain(`--${kebab(p.name)} `);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('prints help to stdout with exit 0 for every command of the tree', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes:');
    const commandsOf = (help: string) =>
      help.includes('Commands:')
        ? [
            ...help
              .split('Commands:')[1]!
              .split('\n\n')[0]!
              .matchAll(/^ {2}([a-z][a-z-]*)/gm),
          ].map((m) => m[1]!)
        : [];
    const commands = commandsOf(top.stdout);
    expect(commands).toEqual(expect.arrayContaining(['masters', 'clones', 'machines', 'uploads', 'ops', 'audit']));
    const paths: string[][] = [];
    for (const c of commands.filter((c) => c !== 'help')) {
      paths.push([c]);
      const h = await cli([c, '--help']);
      expect(h.code, c).toBe(0);
      const subs = commandsOf(h.stdout);
      for (const sub of subs.filter((x) => x !== 'help')) paths.push([c, sub]);
    }
    expect(paths).toContainEqual(['clones', 'assign']);
    for (const p of paths) {
      const h = await cli([...p, '--help']);
      expect(h.code, p.join(' ')).toBe(0);
      expect(h.stdout, p.join(' ')).toMatch(/^Usage: encompass /);
    }
  }, 120_000);

  it('exits by class of error: usage, not found, conflict, unreachable', async () => {
    expect((await cli(['clones', 'assign'])).code).toBe(2);
    expect((await cli(['no-such-command'])).code).toBe(2);
    expect((await cli(['clones', 'create', 'm', 'Bad Name!'])).code).toBe(2);
    const missing = await cli(['clones', 'show', 'no-such-clone']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('not_found');
    const name = unique('site');
    expect((await cli(['sites', 'create', name])).code).toBe(0);
    expect((await cli(['sites', 'create', name])).code).toBe(4);
    const closed = await cli(['clones', 'list'], { ENCOMPASS_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(closed.code).toBe(6);
    expect(closed.stderr).toContain('connection refused');
  });

  it('reads the config file when the environment names no API', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'encompass-cli-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ url: s.url, token: s.adminToken }));
    const r = await cli(['config', '--json'], {
      ENCOMPASS_URL: '',
      ENCOMPASS_TOKEN: '',
      ENCOMPASS_CONFIG: join(dir, 'config.json'),
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ url: s.url, urlFrom: join(dir, 'config.json') });
    expect(
      (
        await cli(['sites', 'list'], {
          ENCOMPASS_URL: '',
          ENCOMPASS_TOKEN: '',
          ENCOMPASS_CONFIG: join(dir, 'config.json'),
        })
      ).code,
    ).toBe(0);
  });

  describe('a walkthrough: import, clone, assign with a hostname, attach, activate, capture', () => {
    let repo: { dir: string; repo: { name: string } };
    beforeAll(async () => {
      repo = await makeRepository(Api.admin());
      await mkdir(join(repo.dir, 'masters'), { recursive: true });
      await makeExt4(join(repo.dir, 'masters/base.img'), baseFiles);
    });

    it('runs through the lifecycle, with tables and --json', async () => {
      const master = unique('master');
      const clone = unique('clone');
      const machine = await makeMachine(Api.admin());
      const items = hostnameItems.flatMap((i) => ['--item', JSON.stringify(i)]);
      const imported = await cli([
        'masters',
        'import',
        master,
        '--repository',
        repo.repo.name,
        '--path',
        'masters/base.img',
        ...items,
        '--json',
      ]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ kind: 'import', status: 'succeeded' });

      const table = await cli(['masters', 'list', '--all']);
      expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+STATUS/);
      expect(table.stdout).toMatch(new RegExp(`^${master}\\s+1\\s+ready`, 'm'));

      expect((await cli(['clones', 'create', master, clone])).code).toBe(0);
      const assigned = await cli(['clones', 'assign', clone, '--machine', machine.name, '--var', 'hostname=web1']);
      expect(assigned.code, assigned.stderr).toBe(0);
      expect(assigned.stdout).toMatch(/status:\s+succeeded/);
      const shown = JSON.parse((await cli(['clones', 'show', clone, '--json'])).stdout);
      expect(shown).toMatchObject({ binding: 'assigned', customization: { applied: 2 } });
      expect(await debugfsCat(join(repo.dir, shown.path), '/etc/hostname')).toBe('web1\n');

      // A transition the table does not have is a conflict.
      const early = await cli(['clones', 'capture', clone, '--json']);
      expect(early.code).toBe(4);
      expect(JSON.parse(early.stdout).error.code).toBe('invalid_transition');

      for (const event of ['attach', 'activate', 'reconfigure', 'deactivate', 'detach', 'unassign']) {
        const r = await cli(['clones', event, clone]);
        expect(r.code, `${event}: ${r.stderr}`).toBe(0);
      }
      const captured = await cli(['clones', 'capture', clone, '--json']);
      expect(captured.code, captured.stderr).toBe(0);
      expect(JSON.parse(captured.stdout)).toMatchObject({ status: 'succeeded' });
      const versions = JSON.parse((await cli(['get', `masters/${master}`])).stdout);
      expect(versions.version).toBe(2);
      // The captured clone is listed only when asked for.
      const names = async (...flags: string[]) =>
        JSON.parse((await cli(['clones', 'list', '--master', `${master}@1`, ...flags, '--json'])).stdout).items.map(
          (c: { name: string }) => c.name,
        );
      expect(await names()).not.toContain(clone);
      expect(await names('--status', 'captured')).toEqual([clone]);
    }, 180_000);

    it('answers at once with --no-wait, and ops wait follows the operation', async () => {
      const master = unique('master');
      const r = await cli([
        'masters',
        'import',
        master,
        '--repository',
        repo.repo.name,
        '--path',
        'masters/base.img',
        '--no-wait',
        '--json',
      ]);
      const { operation } = JSON.parse(r.stdout);
      expect(operation).toMatch(/^op-/);
      const waited = await cli(['ops', 'wait', operation, '--json']);
      expect(JSON.parse(waited.stdout)).toMatchObject({ id: operation, status: 'succeeded' });
    });

    it('exits 5 when the operation it waited for failed, printing the operation', async () => {
      const master = unique('master');
      const r = await cli(['masters', 'import', master, '--repository', repo.repo.name, '--path', 'masters/none.img']);
      expect(r.code, r.stdout + r.stderr).toBe(5);
      expect(r.stdout + r.stderr).toMatch(/failed/);
      const json = await cli([
        'masters',
        'import',
        unique('master'),
        '--repository',
        repo.repo.name,
        '--path',
        'masters/none.img',
        '--json',
      ]);
      expect(json.code).toBe(5);
      expect(JSON.parse(json.stdout)).toMatchObject({
        kind: 'import',
        status: 'failed',
        error: { code: expect.any(String) },
      });
    });

    it('uploads a file as a master and waits for its import', async () => {
      const image = join(repo.dir, '..', `${unique('up')}.img`);
      await makeExt4(image, baseFiles, 8);
      const name = unique('uploaded');
      const r = await cli(['uploads', 'create', image, '--name', name, '--repository', repo.repo.name, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'import', status: 'succeeded', resource: { name } });
      expect(r.stderr).toContain(`upload ${name}`);
      expect(JSON.parse((await cli(['masters', 'show', name, '--json'])).stdout)).toMatchObject({ status: 'ready' });
    }, 120_000);
  });

  it('takes `get clones` without the slash as /v1/clones', async () => {
    const r = await cli(['get', 'clones']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).items).toBeInstanceOf(Array);
  });

  it('runs from the packed package outside the repository, with no node_modules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'encompass-pack-'));
    try {
      const root = fileURLToPath(new URL('../../../', import.meta.url));
      const npm = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--silent'], { cwd: root });
      await run('tar', ['xzf', join(dir, npm.stdout.trim().split('\n').at(-1)!), '-C', dir]);
      const packed = join(dir, 'package/infra/cli/dist/encompass.mjs');
      const r = await run(process.execPath, [packed, 'sites', 'list', '--json'], { cwd: dir, env });
      expect(JSON.parse(r.stdout).items.map((x: { name: string }) => x.name)).toContain('local');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('completes command names in bash', async () => {
    const script = (await cli(['completion', 'bash'])).stdout;
    const { stdout } = await run('bash', [
      '-c',
      `${script}\nCOMP_WORDS=(encompass clones as); COMP_CWORD=2; _encompass; echo "\${COMPREPLY[*]}"`,
    ]);
    expect(stdout.trim()).toBe('assign');
  });

  it('completes command names in zsh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'encompass-zsh-'));
    try {
      const script = join(dir, '_encompass');
      await writeFile(script, (await cli(['completion', 'zsh'])).stdout);
      // The script loads under zsh's own completion system (compinit defines compdef)...
      const loaded = await run('zsh', [
        '-fc',
        `autoload -U compinit && compinit -u -D && source ${script} && print ok`,
      ]);
      expect(loaded.stdout.trim(), loaded.stderr).toBe('ok');
      // ...and offers the words of the command it is in. compadd, zsh's builtin that adds matches, works
      // only inside a completion, so a function stands in for it here and prints them.
      const offered = async (...words: string[]) =>
        (
          await run('zsh', [
            '-fc',
            `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; source ${script}; words=(encompass ${words.join(' ')} ''); CURRENT=${words.length + 2}; _encompass`,
          ])
        ).stdout
          .trim()
          .split('\n');
      expect(await offered('clones')).toEqual(expect.arrayContaining(['assign', 'attach', 'capture', 'list']));
      expect(await offered('clones')).not.toContain('import');
      expect(await offered('--json', 'clones', 'assign')).toContain('--machine');
      expect(await offered()).toEqual(expect.arrayContaining(['clones', 'masters', 'machines', 'ops']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
