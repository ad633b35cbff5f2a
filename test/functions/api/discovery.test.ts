/**
 * Discovery through the API, with the stack's own agent asking real parts: ipmi_sim blades over IPMI,
 * the test Redfish service, libvirt `test:///` connections and a file repository. What it finds is
 * reconciled with the records: matched (with what changed), new (`discovered`, adopted by an operator),
 * conflicts (resolved each way), missing, orphans and ghosts, and power drift.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedSecretRef } from '../../../functions/discovery/seeds';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, postDiscovery, unique } from '../../support/fixtures';
import { type IpmiSimBlade, startIpmiSim } from '../../support/machines-ipmi-sim';
import { type RedfishSim, startRedfishSim } from '../../support/machines-redfish';
import { withLocalDiscovery } from '../../support/site-lock';
import { secretValue } from '../../support/store';

const api = Api.admin();
// A discovery of the local site may wait for another file's (withLocalDiscovery): minutes, not seconds.
vi.setConfig({ testTimeout: 300_000 });
const run = promisify(execFile);

async function discover(seeds: unknown[], extra: Record<string, unknown> = {}) {
  return withLocalDiscovery(async () => {
    const r = await postDiscovery(api, { site: 'local', seeds, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 120_000);
    expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    return { id: r.body.id as string, operation: op, result: op.result };
  });
}

const ipmiSeed = (b: IpmiSimBlade) => ({
  kind: 'ipmi',
  address: `${b.host}:${b.port}`,
  credentials: { user: b.user, password: b.password },
  // A blade that is gone answers nothing: give up on it quickly.
  timeoutSeconds: 1,
});

/** A Redfish endpoint no seed names (TEST-NET-1): the record's address is no evidence either way. */
const elsewhere = { endpoint: 'https://192.0.2.1' };
const uuidOf = (n: number) => `4f1c2d3e-5a6b-4c7d-8e9f-${String(n).padStart(12, '0')}`;

describe('discovery over IPMI', () => {
  const blades: IpmiSimBlade[] = [];
  const serial = unique('SN').toUpperCase();
  let a: IpmiSimBlade;
  let b: IpmiSimBlade;
  let known: { id: string; name: string };

  beforeAll(async () => {
    a = await startIpmiSim({ serial: `${serial}-A`, uuid: uuidOf(Date.now() % 1e9) });
    b = await startIpmiSim({ serial: `${serial}-B`, uuid: uuidOf((Date.now() % 1e9) + 1) });
    blades.push(a, b);
    known = await makeMachine(api, {
      kind: 'ipmi',
      identity: { serial: a.serial },
      settings: { host: a.host, port: a.port, user: a.user },
      credentials: { password: a.password },
    });
  }, 60_000);
  afterAll(async () => {
    for (const blade of blades) await blade.stop();
  });

  it('matches the blade it knows and makes the other a discovered machine, never deployed to until adopted', async () => {
    const { result, operation } = await discover([ipmiSeed(a), ipmiSeed(b)]);
    expect(result.matched).toEqual([expect.objectContaining({ machine: known.id })]);
    expect(result.new).toHaveLength(1);
    const found = (await api.get(`/v1/machines/${result.new[0].machine}`)).body;
    expect(found).toMatchObject({
      state: 'discovered',
      kind: 'ipmi',
      identity: { serial: b.serial },
      settings: { host: b.host, port: b.port },
      credentials: { user: '(set)', password: '(set)' },
      inventory: { identifiers: { serial: b.serial, bmcAddress: `${b.host}:${b.port}` } },
    });
    expect(result.seeds.map((s: { machines: number; error?: unknown }) => [s.machines, s.error])).toEqual([
      [1, undefined],
      [1, undefined],
    ]);
    // The passwords are in the secret store only: not in the operation, its request or its result.
    const text = JSON.stringify(operation) + JSON.stringify((await api.get('/v1/discoveries')).body);
    expect(text).not.toContain(a.password);
    expect(text).not.toContain(b.password);

    const { master } = await makeMaster(api);
    const refused = await api.post('/v1/deployments', {
      master: master.id,
      machines: [found.id],
      name: `${unique('dp')}-\${index}`,
      variables: { hostname: 'found-${index}' },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.error.message).toContain('adopt');

    const adopted = await api.post(`/v1/machines/${found.id}/adopt`, { tags: ['found'] });
    expect(adopted.status, JSON.stringify(adopted.body)).toBe(200);
    expect(adopted.body).toMatchObject({ state: 'ready', tags: ['found'] });
  }, 120_000);

  it('matches a blade whose BMC moved to another port by its serial, with the address changed', async () => {
    await a.stop();
    a = await startIpmiSim({ serial: a.serial, uuid: a.uuid, password: a.password });
    blades.push(a);
    const { result } = await discover([ipmiSeed(a), ipmiSeed(b)]);
    expect(result.new).toEqual([]);
    expect(result.matched.map((m: { machine: string }) => m.machine)).toContain(known.id);
    const changed = result.changed.find((c: { machine: string }) => c.machine === known.id);
    expect(changed.fields).toContainEqual(expect.objectContaining({ field: 'settings.port', to: a.port }));
    expect((await api.get(`/v1/machines/${known.id}`)).body.settings.port).toBe(a.port);
  }, 120_000);

  it('answers a dry run with the diff and changes nothing, and replaces a record’s hardware when told', async () => {
    const extra = await startIpmiSim({ serial: `${serial}-C`, uuid: uuidOf((Date.now() % 1e9) + 2) });
    blades.push(extra);
    const { result, id } = await discover([ipmiSeed(extra)], { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, new: [expect.objectContaining({ kind: 'ipmi' })] });
    expect(result.new[0].machine).toBeUndefined();
    expect((await api.get(`/v1/machines/${result.new[0].name}`)).status).toBe(404);
    expect((await api.get(`/v1/discoveries/${id}`)).body).toMatchObject({ dryRun: true, status: 'succeeded' });

    // A record at that BMC's address with another serial: a contradiction; `replace` gives the record the new hardware.
    const old = await makeMachine(api, {
      kind: 'ipmi',
      identity: { serial: 'REPLACED-BOARD' },
      settings: { host: extra.host, port: extra.port, user: extra.user },
      credentials: { password: extra.password },
    });
    const found = await discover([ipmiSeed(extra)]);
    const conflict = found.result.conflicts.find((c: { reason: string }) => c.reason === 'contradiction');
    expect(conflict.candidates[0]).toMatchObject({ machine: old.id });
    expect(found.result.new).toEqual([]);
    const replaced = await api.post(`/v1/conflicts/${conflict.id}/resolve`, { action: 'replace', candidate: old.id });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect((await api.get(`/v1/machines/${old.id}`)).body.identity.serial).toBe(extra.serial);
    const again = await discover([ipmiSeed(extra)]);
    expect(again.result.matched).toEqual([expect.objectContaining({ machine: old.id })]);
  }, 120_000);

  it('reports power that differs from the binding, and corrects it when the site says so', async () => {
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.id);
    for (const [event, body] of [
      ['assign', { machine: known.id, customization: { variables: { hostname: 'blade-a' } } }],
      ['attach', {}],
    ] as const) {
      const op = await api.run(`/v1/clones/${clone.id}/${event}`, body);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    }
    const ipmi = (...cmd: string[]) =>
      run('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', a.host, '-p', String(a.port), '-U', a.user, '-E', ...cmd], {
        env: { ...process.env, IPMI_PASSWORD: a.password },
      });
    await ipmi('chassis', 'power', 'on');
    const { result } = await discover([ipmiSeed(a)]);
    expect(result.drift).toEqual([
      expect.objectContaining({
        machine: known.id,
        clone: clone.id,
        binding: 'attached',
        expected: 'off',
        observed: 'on',
      }),
    ]);
    expect(result.power).toBe('report');
    expect((await ipmi('chassis', 'power', 'status')).stdout).toContain('on');

    const put = await api.call('PUT', '/v1/sites/local/discovery', { settings: { power: 'correct' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    try {
      await discover([ipmiSeed(a)]);
      const until = Date.now() + 60_000;
      while (!(await ipmi('chassis', 'power', 'status')).stdout.includes('off') && Date.now() < until)
        await new Promise((r) => setTimeout(r, 500));
      expect((await ipmi('chassis', 'power', 'status')).stdout).toContain('off');
    } finally {
      await api.call('PUT', '/v1/sites/local/discovery', { settings: {} });
    }
  }, 180_000);

  it('calls a blade missing after runs in a row without it, flags its clone, and restores both when it is back', async () => {
    const put = await api.call('PUT', '/v1/sites/local/discovery', { settings: { missingAfter: 2 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    try {
      const port = a.port;
      await a.stop();
      const first = await discover([ipmiSeed(a)]);
      expect(first.result.seeds[0].error).toBeDefined();
      expect((await api.get(`/v1/machines/${known.id}`)).body).toMatchObject({
        state: 'ready',
        presence: { misses: 1 },
      });
      const second = await discover([ipmiSeed(a)]);
      expect(second.result.missing).toEqual([expect.objectContaining({ machine: known.id, state: 'missing' })]);
      const vanished = second.result.conflicts.find((c: { reason: string }) => c.reason === 'vanished');
      expect(vanished.machine).toBe(known.id);
      const m = (await api.get(`/v1/machines/${known.id}`)).body;
      expect(m.state).toBe('missing');
      const clone = (await api.get(`/v1/clones/${m.clone}`)).body;
      expect(clone.machineMissing).toMatchObject({ machine: known.id });

      a = await startIpmiSim({ serial: a.serial, uuid: a.uuid, port, password: a.password });
      blades.push(a);
      const back = await discover([ipmiSeed(a)]);
      expect(back.result.matched).toContainEqual(expect.objectContaining({ machine: known.id }));
      expect((await api.get(`/v1/machines/${known.id}`)).body).toMatchObject({
        state: 'ready',
        presence: { misses: 0 },
      });
      expect((await api.get(`/v1/clones/${m.clone}`)).body.machineMissing).toBeUndefined();
      expect((await api.get(`/v1/conflicts/${vanished.id}`)).body).toMatchObject({
        status: 'resolved',
        resolution: { action: 'cleared' },
      });
    } finally {
      await api.call('PUT', '/v1/sites/local/discovery', { settings: {} });
    }
  }, 180_000);

  it(
    'runs one discovery of a site at a time, and a schedule runs the site’s seeds',
    () =>
      withLocalDiscovery(async () => {
        const first = await api.post('/v1/discoveries', { site: 'local', seeds: [ipmiSeed(b)] });
        const second = await api.post('/v1/discoveries', { site: 'local', seeds: [ipmiSeed(b)] });
        expect(first.status).toBe(202);
        expect(second.status).toBe(409);
        expect(second.body.error).toMatchObject({ code: 'discovery_running', operation: first.body.operation });
        await api.wait(first.body.operation, 120_000);

        const put = await api.call('PUT', '/v1/sites/local/discovery', { seeds: [ipmiSeed(b)], everyMinutes: 60 });
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect(put.body.seeds).toEqual([
          { kind: 'ipmi', address: `${b.host}:${b.port}`, credentials: { user: '(set)', password: '(set)' } },
        ]);
        expect(JSON.stringify(put.body)).not.toContain(b.password);
        try {
          // The stack looks for due schedules every few seconds in tests (ENCOMPASS_SCHEDULES_EVERY_MS).
          const until = Date.now() + 60_000;
          let last: { discovery: string } | undefined;
          while (!last && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 500));
            last = (await api.get('/v1/sites/local/discovery')).body.lastRun;
          }
          expect(last).toBeDefined();
          const d = (await api.get(`/v1/discoveries/${last!.discovery}`)).body;
          expect(d).toMatchObject({ scheduled: true, seeds: [{ kind: 'ipmi', address: `${b.host}:${b.port}` }] });
          await api.wait(d.operation, 120_000);
        } finally {
          await api.call('PUT', '/v1/sites/local/discovery', { seeds: [], everyMinutes: 0 });
        }
      }),
    400_000,
  );
});

describe('discovery over Redfish', () => {
  let sim: RedfishSim;
  let wrong: { id: string; name: string };
  let r2: { id: string; name: string };
  let r3: { id: string; name: string };
  const three = unique('RF');
  const tag = Math.floor(Math.random() * 0xff)
    .toString(16)
    .padStart(2, '0')
    .toUpperCase();
  const mac = (n: number) => `00-1B-21-${tag}-00-0${n}`;
  const colons = (m: string) => m.toLowerCase().replace(/-/g, ':');

  beforeAll(async () => {
    sim = await startRedfishSim({
      systems: [
        { id: 'one', uuid: uuidOf(7001), serial: unique('RF'), macs: [mac(1)] },
        { id: 'two', uuid: uuidOf(7002), serial: unique('RF'), macs: [mac(2), mac(3)] },
        { id: 'three', uuid: uuidOf(7003), serial: three, macs: [] },
      ],
    });
    // System two's MACs are two records': every run finds it ambiguous.
    r2 = await makeMachine(api, { kind: 'redfish', settings: elsewhere, identity: { macs: [colons(mac(2))] } });
    r3 = await makeMachine(api, { kind: 'redfish', settings: elsewhere, identity: { macs: [colons(mac(3))] } });
    // Registered at system three's address with another serial: every run finds a contradiction.
    wrong = await makeMachine(api, {
      kind: 'redfish',
      identity: { serial: 'NOT-THREE' },
      settings: { endpoint: sim.endpoint, systemId: 'three' },
    });
  });
  afterAll(async () => sim?.stop());

  const seed = () => ({
    kind: 'redfish',
    address: sim.endpoint,
    credentials: { user: sim.username, password: sim.password },
  });

  it('matches a MAC written upper case with dashes to the record written lower case with colons', async () => {
    const one = await makeMachine(api, { kind: 'redfish', settings: elsewhere, identity: { macs: [colons(mac(1))] } });
    const { result } = await discover([seed()]);
    expect(result.matched).toContainEqual(expect.objectContaining({ machine: one.id }));
    const changed = result.changed.find((c: { machine: string }) => c.machine === one.id);
    expect(changed.fields.map((f: { field: string }) => f.field)).toContain('identity.serial');
  }, 120_000);

  it('queues an observation two records claim as ambiguous, and merges it into the one an operator names', async () => {
    const { result } = await discover([seed()]);
    const conflict = result.conflicts.find((c: { reason: string }) => c.reason === 'ambiguous');
    expect(conflict.candidates.map((c: { machine: string }) => c.machine).sort()).toEqual([r2.id, r3.id].sort());
    expect(conflict.candidates[0].evidence).toEqual([expect.objectContaining({ type: 'mac', weight: 60 })]);

    const queue = (await api.get('/v1/conflicts')).body.items.map((c: { id: string }) => c.id);
    expect(queue).toContain(conflict.id);
    const merged = await api.post(`/v1/conflicts/${conflict.id}/resolve`, { action: 'merge', candidate: r2.name });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body).toMatchObject({ status: 'resolved', resolution: { action: 'merge', candidate: r2.id } });
    // Idempotent: the same resolution again answers the same; another one is refused.
    expect((await api.post(`/v1/conflicts/${conflict.id}/resolve`, { action: 'merge', candidate: r2.id })).status).toBe(
      200,
    );
    const other = await api.post(`/v1/conflicts/${conflict.id}/resolve`, { action: 'ignore' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict_resolved');
    // The MAC r3 holds stays r3's, and the resolution says so.
    expect((await api.get(`/v1/machines/${r2.id}`)).body.identity.macs).toEqual([colons(mac(2))]);
    expect(merged.body.resolution.note).toContain(colons(mac(3)));
    const audit = (await api.get('/v1/audit?limit=100')).body.items;
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'resolve_conflict', resource: expect.objectContaining({ id: conflict.id }) }),
    );
  }, 120_000);

  it('reconciles the stored observations again once the record is corrected, asking no seed', async () => {
    const open = (await api.get('/v1/conflicts')).body.items.find(
      (c: { reason: string; candidates: { machine: string }[] }) =>
        c.reason === 'contradiction' && c.candidates.some((k) => k.machine === wrong.id),
    );
    expect(open, 'the contradiction of system three').toBeDefined();
    const fixed = await api.patch(`/v1/machines/${wrong.id}`, { identity: { serial: three } });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    const { result } = await discover([], { seeds: undefined, replay: true });
    expect(result.matched).toContainEqual(expect.objectContaining({ machine: wrong.id }));
    expect((await api.get(`/v1/conflicts/${open.id}`)).body).toMatchObject({
      status: 'resolved',
      resolution: { action: 'cleared', machine: wrong.id },
    });
  }, 120_000);
});

describe('discovery over libvirt', () => {
  let dir: string;
  const uuid = '7d3b6c2e-1f0a-4b9c-8d7e-6f5a4b3c2d1e';
  const domainXml = (name: string, macTail: string) => `<node>
  <domain type='test'>
    <name>${name}</name>
    <uuid>${uuid}</uuid>
    <memory unit='MiB'>512</memory>
    <vcpu>2</vcpu>
    <os><type>hvm</type></os>
    <devices><interface type='network'><mac address='52:54:00:00:aa:${macTail}'/><source network='default'/></interface></devices>
  </domain>
</node>`;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-libvirt-seed-'));
    await fs.writeFile(path.join(dir, 'a.xml'), domainXml(unique('web'), '01'));
    await fs.writeFile(path.join(dir, 'b.xml'), domainXml(unique('web'), '02'));
  });
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  const seeds = () => [
    { kind: 'libvirt', address: `test://${path.join(dir, 'a.xml')}` },
    { kind: 'libvirt', address: `test://${path.join(dir, 'b.xml')}` },
  ];

  it('queues two domains with one UUID as duplicates, never merging them, and resolves them as new and ignored', async () => {
    const { result } = await discover(seeds());
    expect(result.new).toEqual([]);
    const dups = result.conflicts.filter((c: { reason: string }) => c.reason === 'duplicate_identifier');
    expect(dups).toHaveLength(2);
    expect(dups[0].duplicates).toContainEqual(expect.objectContaining({ type: 'uuid', value: uuid }));

    const made = await api.post(`/v1/conflicts/${dups[0].id}/resolve`, { action: 'new' });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const machine = made.body.resolution.machine;
    expect((await api.get(`/v1/machines/${machine}`)).body).toMatchObject({ kind: 'libvirt', state: 'discovered' });
    expect((await api.post(`/v1/conflicts/${dups[1].id}/resolve`, { action: 'ignore' })).status).toBe(200);

    // Again: the one made new matches its record by hypervisor and domain; the ignored one is not raised again.
    const again = await discover(seeds());
    expect(again.result.matched).toContainEqual(expect.objectContaining({ machine }));
    expect(again.result.conflicts).toEqual([]);
    expect(again.result.new).toEqual([]);
  }, 120_000);

  it('refuses a resolution that does not fit, saying what would', async () => {
    const open = (await api.get('/v1/conflicts?status=all')).body.items[0];
    const r = await api.post(`/v1/conflicts/${open.id}/resolve`, { action: 'merge' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('candidate');
    expect((await api.post('/v1/conflicts/cf-doesnotexist/resolve', { action: 'ignore' })).status).toBe(404);
  });
});

describe('discovery of storage', () => {
  it('reports an image file no record names as an orphan and a record whose image is gone as a ghost', async () => {
    const { dir, repo, master } = await makeMaster(api);
    const clone = await makeClone(api, master.id);
    const record = (await api.get(`/v1/clones/${clone.id}`)).body;
    await fs.rm(path.join(dir, record.path));
    await fs.writeFile(path.join(dir, 'stray.img'), Buffer.alloc(1 << 20, 1));
    const { result } = await discover([{ kind: 'storage', address: repo.name }]);
    expect(result.orphans).toEqual([
      expect.objectContaining({ repository: repo.id, path: 'stray.img', sizeBytes: 1 << 20 }),
    ]);
    expect(result.orphans[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.ghosts).toEqual([expect.objectContaining({ kind: 'clone', id: clone.id, path: record.path })]);
    // Reported, never deleted.
    await fs.access(path.join(dir, 'stray.img'));
    expect((await api.get(`/v1/clones/${clone.id}`)).body.status).toBe('ready');
  }, 120_000);

  it('keeps the first 100 entries of a list in the operation and the whole diff in the discovery', async () => {
    const { dir, repo } = await makeMaster(api);
    await fs.mkdir(path.join(dir, 'many'));
    for (let i = 0; i < 105; i++) await fs.writeFile(path.join(dir, 'many', `f${i}.img`), Buffer.alloc(4096, i));
    const { id, result } = await discover([{ kind: 'storage', address: repo.name }], { dryRun: true });
    expect(result.orphans).toHaveLength(100);
    expect(result).toMatchObject({
      truncated: ['orphans'],
      counts: { orphans: 105 },
      diff: `discoveries/${id}/diff.json`,
    });
    expect((await api.get(`/v1/discoveries/${id}`)).body.result.orphans).toHaveLength(105);
  }, 120_000);

  it('refuses a storage seed that names no repository of the site, and changes nothing', async () => {
    const r = await api.post('/v1/discoveries', {
      site: 'local',
      seeds: [{ kind: 'storage', address: 'no-such-repo' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('no-such-repo');
    const bad = await api.post('/v1/discoveries', { site: 'local', seeds: [{ kind: 'snmp', address: 'x' }] });
    expect(bad.status).toBe(400);
    // A seed's credentials are stored only once the whole request is accepted.
    const address = `127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}`;
    const mixed = await api.post('/v1/discoveries', {
      site: 'local',
      seeds: [
        { kind: 'ipmi', address, credentials: { user: 'u', password: 'never-stored' } },
        { kind: 'storage', address: 'no-such-repo' },
      ],
    });
    expect(mixed.status).toBe(400);
    expect(await secretValue(await seedSecretRef('local', 'ipmi', address, 'password'))).toBeUndefined();
  });
});
