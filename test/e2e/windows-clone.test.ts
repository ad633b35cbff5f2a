// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} and ${secret:NAME} in plain strings are the customization syntax under test.
/**
 * A Windows master through the whole local stack: an NTFS image (mkntfs, partition 2 of an MBR disk,
 * with a minimal SYSTEM hive) is imported with a template that renders the sysprep answer file and
 * sets ComputerName in the registry; the administrator password is a template secret put with the
 * API. A clone is customized with its hostname; the image holds the rendered file (read with ntfscat)
 * and the value (hivexget), and the password appears in no record, operation, audit entry, execution
 * and no file of the stack's home but the clone's image itself.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { configFromEnv } from '../../functions/config';
import { minimalHive } from '../edge-agent/customization/regf';
import { run, type TestImage } from '../edge-agent/drivers/imagefs/images';
import { makeNtfsImage, ntfscat } from '../edge-agent/drivers/imagefs/ntfs-images';
import { Api } from '../support/api';
import { makeRepository, unique } from '../support/fixtures';
import { secretValue, stackDeps } from '../support/store';

const api = Api.admin();
const stack = inject('stack');
const config = configFromEnv(stack.env);
const sfn = new SFNClient({
  region: config.region,
  endpoint: config.endpoints.stepfunctions,
  credentials: config.stepFunctionsCredentials,
});
const PASSWORD = `Adm1n-${Math.random().toString(36).slice(2, 10)}`;
const SYSTEM = '/Windows/System32/config/SYSTEM';
const KEY = 'ControlSet001\\Control\\ComputerName\\ComputerName';
const TEMPLATE = [
  {
    type: 'file',
    path: '/Windows/Panther/unattend.xml',
    content:
      '<unattend><ComputerName>${hostname}</ComputerName><AdministratorPassword><Value>${secret:local-admin}</Value></AdministratorPassword></unattend>\n',
  },
  { type: 'registry', hive: 'SYSTEM', key: KEY, name: 'ComputerName', valueType: 'string', data: '${hostname}' },
];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Whether `file` holds `text`, read a MiB at a time (the stack's home holds images far larger than a
 * string can be); a file another suite removes meanwhile holds nothing.
 */
async function fileContains(file: string, text: string): Promise<boolean> {
  const needle = Buffer.from(text, 'latin1');
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      const window = Buffer.concat([tail, chunk as Buffer]);
      if (window.includes(needle)) return true;
      tail = window.subarray(Math.max(0, window.length - needle.length + 1));
    }
  } catch {
    return false;
  }
  return false;
}

describe('a Windows clone customized with a template secret', () => {
  const made: TestImage[] = [];
  afterAll(async () => {
    await Promise.all(made.map((i) => i.cleanup()));
    await api.del('/v1/sites/local/secrets/local-admin');
  });

  it('renders the answer file and the registry value, and keeps the password out of the stack', async () => {
    const { dir, repo } = await makeRepository(api);
    const image = await makeNtfsImage({
      layout: 'mbr',
      seed: async (root) => {
        await run('mkdir', ['-p', join(root, 'Windows/Panther'), join(root, 'Windows/System32/config')]);
        await writeFile(join(root, SYSTEM), minimalHive());
      },
    });
    made.push(image);
    await run('mkdir', ['-p', join(dir, 'masters')]);
    await writeFile(join(dir, 'masters/win.img'), await readFile(image.imagePath));

    const put = await api.call('PUT', '/v1/sites/local/secrets/local-admin', { value: PASSWORD });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({
      site: 'local',
      name: 'local-admin',
      secret: 'secret://local/templates/local-admin',
      created: expect.any(Boolean),
    });
    expect(await secretValue(put.body.secret)).toBe(PASSWORD);
    const bad = await api.call('PUT', '/v1/sites/local/secrets/no%20spaces', { value: 'x' });
    expect(bad.status).toBe(400);

    const name = unique('win');
    const imported = await api.run('/v1/masters', {
      name,
      repository: repo.name,
      path: 'masters/win.img',
      customization: TEMPLATE,
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    const cloned = await api.run('/v1/clones', { master: name, name: `${name}-c`, method: 'copy' });
    expect(cloned.status, JSON.stringify(cloned)).toBe('succeeded');
    const clone = (await api.get(`/v1/clones/${name}-c`)).body;
    const customized = await api.run(`/v1/clones/${clone.id}/customize`, { variables: { hostname: 'WIN-07' } });
    expect(customized.status, JSON.stringify(customized)).toBe('succeeded');

    const after = (await api.get(`/v1/clones/${clone.id}`)).body;
    const cloneImage = { ...image, imagePath: join(dir, after.path) };
    const xml = (await ntfscat(cloneImage, '/Windows/Panther/unattend.xml')).toString();
    expect(xml).toContain('<ComputerName>WIN-07</ComputerName>');
    expect(xml).toContain(`<Value>${PASSWORD}</Value>`);
    const hive = join(image.dir, 'SYSTEM.hive');
    await writeFile(hive, await ntfscat(cloneImage, SYSTEM));
    expect((await run('hivexget', [hive, `\\${KEY}`, 'ComputerName'])).trim()).toBe('WIN-07');

    // Everywhere the stack keeps things, but the clone's image (and the master's, which has no password).
    const found: string[] = [];
    const look = (place: string, text: string) => text.includes(PASSWORD) && found.push(place);
    for (const path of [
      `/v1/clones/${clone.id}`,
      `/v1/masters/${name}`,
      `/v1/operations/${customized.id}`,
      '/v1/audit',
    ])
      look(path, JSON.stringify((await api.get(path)).body));
    const op = await stackDeps().operations.get(customized.id);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: op!.executionArn }));
    look('execution input/output', `${execution.input}${execution.output}`);
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: op!.executionArn, maxResults: 1000 }),
    );
    look('execution history', JSON.stringify(history.events));
    const cloneFiles = new Set([join(dir, after.path)]);
    for (const file of await filesUnder(stack.home))
      if (!cloneFiles.has(file) && (await fileContains(file, PASSWORD))) found.push(file);
    expect(found).toEqual([]);
    // The search does find the password where it is.
    expect(await fileContains(join(dir, after.path), PASSWORD)).toBe(true);
    await rm(hive, { force: true });
  });
});

describe('template secrets are an admin’s to set and delete', () => {
  const secretName = unique('tpl');
  const path = `/v1/sites/local/secrets/${secretName}`;
  const ref = `secret://local/templates/${secretName}`;
  afterAll(async () => {
    await api.del(path);
  });

  it.each(['operator', 'viewer', 'agent'])('refuses a %s token with 403 and writes nothing', async (role) => {
    const made = await api.post('/v1/tokens', {
      role,
      label: `template secrets ${role}`,
      ...(role === 'agent' ? { site: 'local' } : {}),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const caller = api.as(made.body.token);

    // Not there yet: a refused PUT does not create it.
    await api.del(path);
    const create = await caller.call('PUT', path, { value: `by-${role}-new` });
    expect(create.status, JSON.stringify(create.body)).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    expect(await secretValue(ref)).toBeUndefined();

    // There: a refused PUT does not change it, a refused DELETE does not remove it.
    const value = `kept-${role}-${Math.random().toString(36).slice(2, 8)}`;
    expect((await api.call('PUT', path, { value })).status).toBe(200);
    const change = await caller.call('PUT', path, { value: `by-${role}-changed` });
    expect(change.status, JSON.stringify(change.body)).toBe(403);
    const remove = await caller.del(path);
    expect(remove.status, JSON.stringify(remove.body)).toBe(403);
    expect(remove.body.error.code).toBe('forbidden');
    expect(await secretValue(ref)).toBe(value);
    expect(JSON.stringify([create.body, change.body, remove.body])).not.toContain(value);
  });
});
