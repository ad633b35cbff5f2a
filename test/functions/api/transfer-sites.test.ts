/**
 * The Export/Import scenario between two sites for real: two local stacks side by side (the global one
 * and one started here, each with its own home, port and agent), and a folder both have registered as a
 * file repository. A master with its lineage, a clone and the machines go from the first to the second.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../../infra/local/stack';
import { Api } from '../../support/api';
import { activeOn, hostnameItems, makeClone, makeMachine, makeMaster, unique } from '../../support/fixtures';
import { debugfsCat } from '../../support/images';

const a = Api.admin();
const SECRET = `pw-${unique('never-in-a-bundle')}`;

async function run(api: Api, path: string, body: unknown) {
  const r = await api.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return api.wait(r.body.operation, 90_000);
}

/** Every file below `dir`, with its path relative to it. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

describe('export from one site and import at another', () => {
  let b: Stack;
  let bApi: Api;
  let homeB: string;
  let shared: string;
  let sharedA: any;
  let sharedB: any;
  let imagesB: { dir: string; repo: any };
  let source: Awaited<ReturnType<typeof makeMaster>>;
  let v2: any;
  let clone: any;
  let machine: any;

  beforeAll(async () => {
    homeB = await mkdtemp(join(tmpdir(), 'encompass-site-b-'));
    shared = await mkdtemp(join(tmpdir(), 'encompass-shared-'));
    const [started] = await Promise.all([
      startStack({ home: homeB, port: 0 }),
      (async () => {
        // Site A: a master, its next version captured from a clone, a clone of that one bound to a machine with credentials.
        source = await makeMaster(a, { requirements: { minCpus: 2 } });
        await a.patch(`/v1/masters/${source.master.id}`, { profile: { service: 'web server' } });
        machine = await makeMachine(a, { credentials: { password: SECRET } });
        const first = await activeOn(a, source.master.id, machine, 'web-1');
        for (const e of ['deactivate', 'detach', 'unassign', 'reconfigure', 'capture'])
          expect((await a.run(`/v1/clones/${first.id}/${e}`)).status).toBe('succeeded');
        v2 = (await a.get(`/v1/masters/${source.master.name}`)).body;
        clone = await makeClone(a, v2.id);
        const assign = { machine: machine.id, customization: { variables: { hostname: 'web-2' } } };
        expect((await a.run(`/v1/clones/${clone.id}/assign`, assign)).status).toBe('succeeded');
      })(),
    ]);
    b = started;
    bApi = new Api(b.url, b.adminToken);
    const shareName = unique('shared');
    sharedA = (await a.createRepository({ name: shareName, site: 'local', kind: 'file', path: shared })).body;
    sharedB = (await bApi.createRepository({ name: shareName, site: 'local', kind: 'file', path: shared })).body;
    const dir = join(homeB, 'images');
    await mkdir(dir);
    imagesB = {
      dir,
      repo: (await bApi.createRepository({ name: 'images', site: 'local', kind: 'file', path: dir })).body,
    };
    expect(sharedB.id).toBeDefined();
  }, 120_000);

  afterAll(async () => {
    await b?.stop();
    await rm(homeB, { recursive: true, force: true });
    await rm(shared, { recursive: true, force: true });
  });

  const importBody = (path: string) => ({
    bundle: { repository: sharedB.name, path },
    site: 'local',
    rebinding: { repositories: { [source.repo.name]: 'images' } },
  });

  it('moves the master with its lineage, sha256, template, its clone unassigned and its machine without credentials', async () => {
    const exported = await run(a, '/v1/exports', {
      masters: [source.master.name],
      include: { clones: true, machines: true, customization: true },
      to: { repository: sharedA.name, path: 'bundles/site-a' },
    });
    expect(exported.status, JSON.stringify(exported)).toBe('succeeded');
    const bundle = join(shared, 'bundles/site-a');
    const files = await filesOf(bundle);
    expect(files.sort()).toEqual(
      [
        'manifest.json',
        `images/masters/${source.master.id}.img`,
        `images/masters/${v2.id}.img`,
        `images/clones/${clone.id}.img`,
        `metadata/customizations/${clone.id}.json`,
        'metadata/machines.json',
      ].sort(),
    );
    for (const f of files) expect((await readFile(join(bundle, f))).includes(SECRET), f).toBe(false);
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8'));
    expect(manifest.credentials).toMatch(/not in this bundle/);
    expect(manifest.objects.find((o: any) => o.id === v2.id)).toMatchObject({ version: 2, parent: source.master.id });

    // A bundle with one flipped byte is refused before anything is written.
    await cp(bundle, join(shared, 'bundles/tampered'), { recursive: true });
    const fh = await open(join(shared, 'bundles/tampered', `images/masters/${v2.id}.img`), 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 5 * 1024 * 1024);
    await fh.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, 5 * 1024 * 1024);
    await fh.close();
    const tampered = await run(bApi, '/v1/imports', importBody('bundles/tampered'));
    expect(tampered).toMatchObject({ status: 'failed', error: { code: 'bundle_damaged' } });
    expect(tampered.error.message).toMatch(new RegExp(`${v2.id}.*part 1`));
    expect((await bApi.get(`/v1/masters/${source.master.name}`)).status).toBe(404);
    expect(await filesOf(imagesB.dir)).toEqual([]);

    // A dry run without rebindings lists what the site lacks, and writes nothing.
    const dry = await run(bApi, '/v1/imports', { ...importBody('bundles/site-a'), rebinding: {}, dryRun: true });
    expect(dry.status, JSON.stringify(dry)).toBe('succeeded');
    expect(dry.result.plan.missing).toEqual([
      { kind: 'repository', name: source.repo.name, neededBy: `master ${source.master.name}@1` },
      { kind: 'machine', name: machine.name, neededBy: `clone ${clone.name}` },
    ]);
    expect(dry.result.plan.conflicts).toEqual([]);
    expect(dry.result.plan.copy.bytes).toBe(0);
    expect((await bApi.get(`/v1/masters/${source.master.name}`)).status).toBe(404);
    expect(await filesOf(imagesB.dir)).toEqual([]);

    // Version 1 alone first: the full bundle then adds version 2 to the name the site has.
    const name = source.master.name;
    const first = await run(a, '/v1/exports', {
      masters: [`${name}@1`],
      to: { repository: sharedA.name, path: 'bundles/v1' },
    });
    expect(first.result.objects.map((o: any) => o.id)).toEqual([source.master.id]);
    const onlyV1 = await run(bApi, '/v1/imports', importBody('bundles/v1'));
    expect(onlyV1.result.created.masters).toEqual([`${name}@1`]);

    const imported = await run(bApi, '/v1/imports', importBody('bundles/site-a'));
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    expect(imported.result.skipped).toEqual([
      { name: `${name}@1`, reason: 'the site has it: same name, version and sha256' },
    ]);
    expect(imported.result.created).toEqual({
      masters: [`${name}@2`],
      clones: [clone.name],
      machines: [machine.name],
    });
    const [b1, b2] = [(await bApi.get(`/v1/masters/${name}@1`)).body, (await bApi.get(`/v1/masters/${name}`)).body];
    expect(b1).toMatchObject({
      version: 1,
      sha256: source.master.sha256,
      customization: hostnameItems,
      requirements: { minCpus: 2 },
    });
    expect(b1.profile).toEqual({ service: 'web server' });
    expect(b2).toMatchObject({ version: 2, sha256: v2.sha256, parent: b1.id, customization: v2.customization });
    const bClone = (await bApi.get(`/v1/clones/${clone.name}`)).body;
    // The clone's image as it is now (customized for web-2), hashed when it was written into the bundle.
    const cloneSha = manifest.objects.find((o: any) => o.id === clone.id).sha256;
    expect(cloneSha).toBe(
      createHash('sha256')
        .update(await readFile(join(source.dir, clone.path)))
        .digest('hex'),
    );
    expect(bClone).toMatchObject({ master: b2.id, binding: 'unassigned', metastate: 'clean', sha256: cloneSha });
    expect(await debugfsCat(join(imagesB.dir, bClone.path), '/etc/hostname')).toBe('web-2\n');
    expect(bClone.machine).toBeUndefined();
    expect(imported.result.unassigned).toEqual([
      { clone: clone.name, machine: machine.name, reason: `no rebinding target for machine ${machine.name}` },
    ]);
    const bMachine = (await bApi.get(`/v1/machines/${machine.name}`)).body;
    expect(bMachine.credentials ?? {}).toEqual({});
    expect(imported.result.credentialsNeeded).toEqual([{ machine: machine.name, fields: ['password'] }]);
    const bytes = manifest.objects.reduce((n: number, o: any) => n + o.sizeBytes, 0);
    const took = (op: any) => ((Date.parse(op.updatedAt) - Date.parse(op.createdAt)) / 1000).toFixed(2);
    console.log(
      `export: ${mib(bytes)} MiB in ${manifest.objects.length} objects written in ${exported.result.seconds.toFixed(2)} s (operation ${took(exported)} s); ` +
        `import: ${mib(bytes)} MiB verified and ${mib(imported.result.copiedBytes)} MiB copied in ${imported.result.seconds.toFixed(2)} s (operation ${took(imported)} s)`,
    );

    const again = await run(bApi, '/v1/imports', importBody('bundles/site-a'));
    expect(again.status).toBe('succeeded');
    expect(again.result.created).toEqual({ masters: [], clones: [], machines: [] });
    expect(again.result.skipped.map((s: any) => s.name)).toEqual([`${name}@1`, `${name}@2`, clone.name, machine.name]);
    expect((await bApi.get(`/v1/masters/${name}`)).body).toMatchObject({ id: b2.id, rev: b2.rev });
  }, 120_000);
});
