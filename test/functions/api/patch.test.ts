/**
 * PATCH is a JSON merge patch (RFC 7396): only the fields sent change, null removes one, arrays
 * replace; the result is checked whole; what a bound clone relies on cannot change under it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, unique } from '../../support/fixtures';
import { secretValue, storedCredentials } from '../../support/store';

const api = Api.admin();
const iqn = 'iqn.2026-11.io.example:blade1';

async function richMachine() {
  return makeMachine(api, {
    cpus: 2,
    memoryMiB: 4096,
    identity: { macs: ['52:54:00:00:00:01'], serial: 'SN1', initiatorName: iqn },
    settings: { bootSeconds: 0, note: { rack: 'r1', slot: 3 } },
    credentials: { password: 'pw1', user: 'admin' },
  });
}

describe('PATCH /v1/machines/{id} merges', () => {
  it('changes only the fields present: {"cpus":4} keeps settings, identity, memory and credentials', async () => {
    const m = await richMachine();
    const r = await api.patch(`/v1/machines/${m.id}`, { cpus: 4 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      cpus: 4,
      memoryMiB: 4096,
      arch: 'x86_64',
      identity: { macs: ['52:54:00:00:00:01'], serial: 'SN1', initiatorName: iqn },
      settings: { bootSeconds: 0, note: { rack: 'r1', slot: 3 } },
      credentials: { password: '(set)', user: '(set)' },
      rev: 2,
    });
    const empty = await api.patch(`/v1/machines/${m.id}`, {});
    expect(empty.body).toMatchObject({ cpus: 4, memoryMiB: 4096, identity: { initiatorName: iqn } });
    expect((await storedCredentials(m.id)).values).toEqual({ password: 'pw1', user: 'admin' });
  });

  it('merges objects member by member, removes a member with null, and replaces arrays whole', async () => {
    const m = await richMachine();
    const r = await api.patch(`/v1/machines/${m.id}`, {
      identity: { serial: 'SN2', initiatorName: null, macs: ['52-54-00-00-00-0A'] },
      settings: { note: { slot: 4 }, bootSeconds: null },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.identity).toEqual({ macs: ['52:54:00:00:00:0a'], serial: 'SN2' });
    expect(r.body.settings).toEqual({ note: { rack: 'r1', slot: 4 } });
    const cleared = await api.patch(`/v1/machines/${m.id}`, { settings: null });
    expect(cleared.body.settings).toEqual({});
    expect(cleared.body.identity.serial).toBe('SN2');
  });

  it('keeps credentials write-only: a new value replaces one, "(set)" keeps it, null removes it', async () => {
    const m = await richMachine();
    const shown = (await api.get(`/v1/machines/${m.id}`)).body.credentials;
    const r = await api.patch(`/v1/machines/${m.id}`, { credentials: { ...shown, password: 'pw2' } });
    expect(r.body.credentials).toEqual({ password: '(set)', user: '(set)' });
    expect(JSON.stringify(r.body)).not.toContain('pw2');
    const stored = await storedCredentials(m.id);
    expect(stored.values).toEqual({ password: 'pw2', user: 'admin' });
    // The record holds references only; the values are in the secret store.
    expect(stored.refs).toEqual({
      password: `secret://local/machines/${m.id}/password`,
      user: `secret://local/machines/${m.id}/user`,
    });
    await api.patch(`/v1/machines/${m.id}`, { credentials: { user: null } });
    expect((await storedCredentials(m.id)).values).toEqual({ password: 'pw2' });
    // A removed credential's secret is deleted, and so are the rest with the machine.
    expect(await secretValue(stored.refs.user!)).toBeUndefined();
    expect((await api.del(`/v1/machines/${m.id}`)).status).toBe(200);
    expect(await secretValue(stored.refs.password!)).toBeUndefined();
  });

  it('refuses a patch whose result is not a valid machine, naming each field, and changes nothing', async () => {
    const m = await richMachine();
    const bad = await api.patch(`/v1/machines/${m.id}`, {
      cpus: null,
      memoryMiB: 0,
      colour: 'red',
      identity: { macs: ['zz'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\.cpus: /),
        expect.stringMatching(/^body\.memoryMiB: /),
        expect.stringMatching(/^body\.colour: is not a field here/),
        expect.stringMatching(/^body\.identity\.macs\.0: .*MAC/),
      ]),
    );
    for (const body of [[], 'cpus', null]) expect((await api.patch(`/v1/machines/${m.id}`, body)).status).toBe(400);
    const renamed = await api.patch(`/v1/machines/${m.id}`, { name: unique('other') });
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.problems[0]).toMatch(/^body\.name: a machine keeps its name/);
    const sameName = await api.patch(`/v1/machines/${m.id}`, { name: m.name, id: m.id, rev: 1, cpus: 3 });
    expect(sameName.status, JSON.stringify(sameName.body)).toBe(200);
    const stale = await api.patch(`/v1/machines/${m.id}`, { rev: 1, cpus: 5 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale');
    expect((await api.get(`/v1/machines/${m.id}`)).body).toMatchObject({ rev: 2, cpus: 3, memoryMiB: 4096 });
  });

  it('accepts application/merge-patch+json and application/json alike', async () => {
    const m = await richMachine();
    for (const [type, cpus] of [
      ['application/merge-patch+json', 6],
      ['application/json; charset=utf-8', 7],
    ] as const) {
      const res = await fetch(`${api.url}/v1/machines/${m.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': type },
        body: JSON.stringify({ cpus }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ cpus, memoryMiB: 4096, identity: { initiatorName: iqn } });
    }
  });

  it('moves an unbound machine to another site by name or id, and says so when there is no such site', async () => {
    const m = await richMachine();
    const local = (await api.get('/v1/sites/local')).body;
    const moved = await api.patch(`/v1/machines/${m.id}`, { site: local.id });
    expect(moved.status).toBe(200);
    expect(moved.body.site).toBe('local');
    const nowhere = await api.patch(`/v1/machines/${m.id}`, { site: 'no-such-site' });
    expect(nowhere.status).toBe(404);
  });
});

describe('PATCH of a machine that carries a clone', () => {
  let master: { id: string };
  let machine: { id: string; name: string };
  let clone: { id: string; name: string };
  beforeAll(async () => {
    ({ master } = await makeMaster(api, { requirements: { arch: 'x86_64', minCpus: 2 } }));
    clone = await makeClone(api, master.id);
    machine = await richMachine();
    const op = await api.run(`/v1/clones/${clone.id}/assign`, {
      machine: machine.id,
      customization: { variables: { hostname: 'bound-1' } },
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
  });

  async function refused(patch: Record<string, unknown>, field: string) {
    const before = (await api.get(`/v1/machines/${machine.id}`)).body;
    const r = await api.patch(`/v1/machines/${machine.id}`, patch);
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'machine_bound', field, clone: clone.name });
    expect(r.body.error.message).toContain(field);
    expect(r.body.error.message).toContain('unassign the clone first');
    expect((await api.get(`/v1/machines/${machine.id}`)).body).toEqual(before);
  }

  it('refuses kind, site and arch once assigned; takes identity, settings, credentials and cpus that still fit', async () => {
    await refused({ kind: 'qemu' }, 'kind');
    await refused({ arch: 'aarch64' }, 'arch');
    await refused({ cpus: 1 }, 'cpus');
    const ok = await api.patch(`/v1/machines/${machine.id}`, {
      cpus: 8,
      identity: { serial: 'SN9' },
      settings: { note: { slot: 5 } },
      credentials: { password: 'rotated' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ cpus: 8, clone: clone.id, identity: { serial: 'SN9', initiatorName: iqn } });
  });

  it('refuses identity once attached and settings once active, naming the member, and takes them again after detach', async () => {
    expect((await api.run(`/v1/clones/${clone.id}/attach`)).status).toBe('succeeded');
    await refused({ identity: { initiatorName: 'iqn.2026-11.io.example:intruder' } }, 'identity.initiatorName');
    await refused({ identity: { macs: [] } }, 'identity.macs');
    // The agent keeps the disk of a machine of this kind (kinds.ts holdsDisk): a wrong setting can be corrected until power on.
    const corrected = await api.patch(`/v1/machines/${machine.id}`, { settings: { note: { slot: 4 } } });
    expect(corrected.status, JSON.stringify(corrected.body)).toBe(200);
    expect(corrected.body.settings).toEqual({ bootSeconds: 0, note: { rack: 'r1', slot: 4 } });
    expect((await api.run(`/v1/clones/${clone.id}/activate`)).status).toBe('succeeded');
    await refused({ settings: { bootSeconds: 1 } }, 'settings.bootSeconds');
    expect((await api.run(`/v1/clones/${clone.id}/deactivate`)).status).toBe('succeeded');
    const rotated = await api.patch(`/v1/machines/${machine.id}`, { credentials: { password: 'again' }, cpus: 4 });
    expect(rotated.status).toBe(200);
    expect((await api.run(`/v1/clones/${clone.id}/detach`)).status).toBe('succeeded');
    const renamed = await api.patch(`/v1/machines/${machine.id}`, { identity: { initiatorName: `${iqn}-2` } });
    expect(renamed.status).toBe(200);
  });

  it('refuses changing the clone it carries, and frees every field once the clone is unassigned', async () => {
    const r = await api.patch(`/v1/machines/${machine.id}`, { clone: null });
    expect(r.status).toBe(400);
    expect(r.body.error.problems[0]).toMatch(/^body\.clone: is set by the assign and unassign events/);
    expect((await api.run(`/v1/clones/${clone.id}/unassign`)).status).toBe('succeeded');
    const free = await api.patch(`/v1/machines/${machine.id}`, { kind: 'qemu', arch: 'aarch64', cpus: 1 });
    expect(free.status, JSON.stringify(free.body)).toBe(200);
    expect(free.body).toMatchObject({ kind: 'qemu', arch: 'aarch64', cpus: 1 });
    expect(free.body.clone).toBeUndefined();
  });
});

describe('PATCH /v1/masters/{id} merges', () => {
  let master: { id: string; customization: unknown[] };
  beforeAll(async () => {
    ({ master } = await makeMaster(api, { requirements: { arch: 'x86_64', minCpus: 2, minMemoryMiB: 512 } }));
  });

  it('changes only the members sent, removes one with null, and replaces the item list whole', async () => {
    const r = await api.patch(`/v1/masters/${master.id}`, { profile: { service: 'web' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      profile: { service: 'web' },
      requirements: { arch: 'x86_64', minCpus: 2, minMemoryMiB: 512 },
      customization: master.customization,
    });
    const less = await api.patch(`/v1/masters/${master.id}`, {
      requirements: { minCpus: null },
      profile: { software: ['nginx'] },
    });
    expect(less.body.requirements).toEqual({ arch: 'x86_64', minMemoryMiB: 512 });
    expect(less.body.profile).toEqual({ service: 'web', software: ['nginx'] });
    const one = { type: 'file', path: '/etc/motd', content: 'hi\n' };
    const items = await api.patch(`/v1/masters/${master.id}`, { customization: [one] });
    expect(items.body.customization).toEqual([one]);
    expect(items.body.profile.service).toBe('web');
  });

  it('refuses server fields, unknown fields and bad items by their path, and changes nothing', async () => {
    const before = (await api.get(`/v1/masters/${master.id}`)).body;
    const r = await api.patch(`/v1/masters/${master.id}`, {
      version: 9,
      sha256: 'x',
      colour: 'red',
      customization: [{ type: 'replace', path: '/etc/hosts', pattern: '(', replacement: '' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\.version: is set by the server/),
        expect.stringMatching(/^body\.sha256: is set by the server/),
      ]),
    );
    const items = await api.patch(`/v1/masters/${master.id}`, {
      colour: 'red',
      customization: [{ type: 'replace', path: '/etc/hosts', pattern: '(', replacement: '' }],
    });
    expect(items.body.error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\.colour: is not a field here/),
        expect.stringMatching(/^body\.customization\.0\.pattern: .*fix the pattern/),
      ]),
    );
    expect((await api.get(`/v1/masters/${master.id}`)).body).toEqual(before);
  });
});

describe('the OpenAPI document of a PATCH route', () => {
  it('describes the body as a JSON merge patch of the document, in both media types', async () => {
    const doc = (await api.get('/v1/openapi.json')).body;
    for (const path of ['/v1/machines/{id}', '/v1/masters/{id}']) {
      const body = doc.paths[path].patch.requestBody.content;
      expect(Object.keys(body)).toEqual(['application/merge-patch+json', 'application/json']);
      const schema = body['application/merge-patch+json'].schema;
      expect(schema.description).toContain('RFC 7396');
      expect(schema.required).toBeUndefined();
    }
    const machine = doc.paths['/v1/machines/{id}'].patch.requestBody.content['application/json'].schema;
    expect(machine.properties.cpus).toMatchObject({ type: 'integer' });
    expect(machine.properties.settings.anyOf).toContainEqual({ type: 'null' });
    expect(machine.properties.identity.anyOf[0].properties.initiatorName.anyOf).toContainEqual({ type: 'null' });
  });
});
