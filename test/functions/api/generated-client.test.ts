/**
 * A client generated from the stack's own OpenAPI document works: openapi-typescript turns
 * /v1/openapi.json into types, a small walkthrough written with openapi-fetch against them passes
 * `tsc --strict` and then runs against the stack (repository, import, clone, assign with a hostname,
 * read, destroy, delete the master). A program with a misspelled path and a misspelled body field
 * fails the same check, so the check is one that can fail.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, hostnameItems, makeExt4 } from '../../support/images';

const run = promisify(execFile);
const api = Api.admin();
const root = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(root, 'node_modules/typescript/bin/tsc');

/** The walkthrough, as a user of the generated types would write it. */
const walkthrough = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api';

type Operation = components['schemas']['Operation'];

export interface Inputs {
  baseUrl: string;
  token: string;
  /** A directory holding masters/web.img. */
  dir: string;
  suffix: string;
  /** Called with the clone while it is assigned (its image is gone once destroyed). */
  inspect: (clone: components['schemas']['Clone']) => Promise<void>;
  customization: NonNullable<paths['/v1/masters']['post']['requestBody']>['content']['application/json']['customization'];
}

export async function walkthrough(i: Inputs) {
  const api = createClient<paths>({ baseUrl: i.baseUrl, headers: { authorization: \`Bearer \${i.token}\` } });
  const ok = <T>(r: { data?: T; error?: unknown; response: Response }, what: string): T => {
    if (r.data === undefined) throw new Error(\`\${what}: \${r.response.status} \${JSON.stringify(r.error)}\`);
    return r.data;
  };
  const ended = async (operation: string): Promise<Operation> => {
    for (;;) {
      const op = ok(
        await api.GET('/v1/operations/{id}', { params: { path: { id: operation }, query: { wait: 20 } } }),
        'read operation',
      );
      if (op.status !== 'running') return op;
    }
  };
  const succeeded = async (accepted: { operation: string }, what: string) => {
    const op = await ended(accepted.operation);
    if (op.status !== 'succeeded') throw new Error(\`\${what}: \${op.status} \${JSON.stringify(op.error)}\`);
    return op;
  };

  const name = \`web-\${i.suffix}\`;
  let repo = ok(
    await api.POST('/v1/repositories', { body: { name: \`nas-\${i.suffix}\`, site: 'local', kind: 'file', path: i.dir } }),
    'create repository',
  );
  // A new repository may be checking until its site's agent found its path usable.
  while ('status' in repo && repo.status === 'checking') {
    await new Promise((r) => setTimeout(r, 100));
    repo = ok(await api.GET('/v1/repositories/{id}', { params: { path: { id: repo.id } } }), 'read repository');
  }
  await succeeded(
    ok(
      await api.POST('/v1/masters', {
        body: { name, repository: repo.name, path: 'masters/web.img', customization: i.customization },
      }),
      'import master',
    ),
    'import',
  );
  const machine = ok(
    await api.POST('/v1/machines', { body: { name: \`blade-\${i.suffix}\`, site: 'local', kind: 'sim', cpus: 2, memoryMiB: 2048 } }),
    'register machine',
  );
  await succeeded(ok(await api.POST('/v1/clones', { body: { master: name, name: \`\${name}-1\` } }), 'clone'), 'clone');
  const id = { path: { id: \`\${name}-1\` } };
  await succeeded(
    ok(
      await api.POST('/v1/clones/{id}/assign', {
        params: id,
        body: { machine: machine.id, customization: { variables: { hostname: \`host-\${i.suffix}\` } } },
      }),
      'assign',
    ),
    'assign',
  );
  const assigned = ok(await api.GET('/v1/clones/{id}', { params: id }), 'read clone');
  await i.inspect(assigned);
  await succeeded(ok(await api.POST('/v1/clones/{id}/unassign', { params: id }), 'unassign'), 'unassign');
  await succeeded(ok(await api.POST('/v1/clones/{id}/destroy', { params: id }), 'destroy'), 'destroy');
  // A destroyed clone gives its name up: it is read by its id.
  const destroyed = ok(
    await api.GET('/v1/clones/{id}', { params: { path: { id: assigned.id } } }),
    'read destroyed clone',
  );
  ok(await api.DELETE('/v1/masters/{id}', { params: { path: { id: name } } }), 'delete master');
  const gone = await api.GET('/v1/masters/{id}', { params: { path: { id: name } } });
  return { machine: machine.id, assigned, destroyed: destroyed.status, masterAfterDelete: gone.response.status };
}
`;

/** The same client misused: a path that is not in the document, and a body field misspelled. */
const misspelled = `
import createClient from 'openapi-fetch';
import type { paths } from './api';

const api = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });
export const wrongPath = () => api.GET('/v1/clone/{id}', { params: { path: { id: 'web-1' } } });
export const wrongField = () => api.POST('/v1/clones', { body: { master: 'web', nmae: 'web-1' } });
`;

/** Both programs in one tsc run (the generated types are parsed once); each error names its file. */
const tsconfig = JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022', 'DOM'],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
  },
  files: ['walkthrough.ts', 'misspelled.ts'],
});

/** Runs tsc on the programs in `dir`; resolves to its exit code and the errors it printed. */
async function typecheck(dir: string): Promise<{ code: number; errors: string[] }> {
  const errorsOf = (out: string) => out.split('\n').filter((l) => /error TS\d+/.test(l));
  try {
    const { stdout } = await run(process.execPath, [TSC, '--noEmit', '--strict', '-p', dir], { cwd: dir });
    return { code: 0, errors: errorsOf(stdout) };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, errors: errorsOf(`${err.stdout ?? ''}${err.stderr ?? ''}`) };
  }
}

describe('a client generated from /v1/openapi.json', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-client-'));
    // The programs import openapi-fetch as any project would: from a node_modules beside them.
    await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const doc = await (await fetch(`${api.url}/v1/openapi.json`)).json();
    await writeFile(join(dir, 'api.ts'), astToString(await openapiTS(doc)));
    await writeFile(join(dir, 'walkthrough.ts'), walkthrough);
    await writeFile(join(dir, 'misspelled.ts'), misspelled);
    await writeFile(join(dir, 'tsconfig.json'), tsconfig);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-checks a correct program and refuses one with a wrong path and a wrong body field', async () => {
    const { code, errors } = await typecheck(dir);
    // Nothing in the walkthrough (or the generated types); exactly the two mistakes in the other.
    expect(errors.filter((l) => !l.startsWith('misspelled.ts('))).toEqual([]);
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toContain('"/v1/clone/{id}"');
    expect(errors.join('\n')).toContain('nmae');
    expect(code).not.toBe(0);
  });

  it('runs the walkthrough against the stack', async () => {
    const repoDir = await mkdtemp(join(inject('stack').home, 'client-repo-'));
    await mkdir(join(repoDir, 'masters'));
    await makeExt4(join(repoDir, 'masters/web.img'), baseFiles);
    const suffix = unique('gc').slice(3);
    const program = await import(join(dir, 'walkthrough.ts'));
    let hostname = '';
    const result = await program.walkthrough({
      inspect: async (clone: { path: string }) => {
        hostname = await debugfsCat(join(repoDir, clone.path), '/etc/hostname');
      },
      baseUrl: api.url,
      token: api.token,
      dir: repoDir,
      suffix,
      customization: hostnameItems,
    });
    expect(result.assigned).toMatchObject({ name: `web-${suffix}-1`, binding: 'assigned', machine: result.machine });
    expect(hostname).toBe(`host-${suffix}\n`);
    expect(existsSync(join(repoDir, result.assigned.path))).toBe(false);
    expect(result.destroyed).toBe('destroyed');
    expect(result.masterAfterDelete).toBe(404);
  });
});
