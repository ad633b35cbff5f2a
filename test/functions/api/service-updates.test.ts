/**
 * Service updates on sim machines through the whole stack: a deployment of version 1 is rolled to a
 * version-2 master in waves of one, each machine keeping its hostname; the rollback switches every
 * machine back to its standby clone without cloning or customizing anything, twice; finalize
 * destroys the standbys of an update that stays.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Api } from '../../support/api';
import { hostnameItems, makeMachine, makeMaster, unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, makeExt4 } from '../../support/images';

const api = Api.admin();

describe('service updates', () => {
  let dir: string;
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    const made = await makeMaster(api, { files: { ...baseFiles, 'etc/version': '1\n' } });
    dir = made.dir;
    v1 = made.master.name;
    await makeExt4(join(dir, 'masters/v2.img'), { ...baseFiles, 'etc/version': '2\n' });
    v2 = unique('v2');
    const op = await api.run('/v1/masters', {
      name: v2,
      repository: made.repo.name,
      path: 'masters/v2.img',
      customization: hostnameItems,
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
  }, 120_000);

  /** Machines running version 1 (two by default), deployed with hostnames svc-1, svc-2…; `consoles` are what each sim console shows. */
  async function service(
    consoles: string[] = ['', ''],
    master = v1,
    variables: Record<string, string> = { hostname: 'svc-${index}' },
  ) {
    const tag = unique('svc');
    for (const [i, console] of consoles.entries())
      await makeMachine(api, { name: `${tag}-m${i + 1}`, tags: [tag], settings: { console } });
    const r = await api.post('/v1/deployments', {
      master,
      count: consoles.length,
      selector: { tags: [tag] },
      name: `${tag}-\${index}`,
      variables,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect((await api.wait(r.body.operation, 120_000)).status).toBe('succeeded');
    return (await api.get(`/v1/deployments/${r.body.id}`)).body;
  }

  /** What each member's machine runs now: its clone's /etc/version and /etc/hostname. */
  async function running(deployment: { members: { machine: string }[] }) {
    const out = [];
    for (const m of deployment.members) {
      const machine = (await api.get(`/v1/machines/${m.machine}`)).body;
      const clone = (await api.get(`/v1/clones/${machine.clone}`)).body;
      expect(clone.binding).toBe('active');
      out.push({
        clone: clone.id,
        version: await debugfsCat(join(dir, clone.path), '/etc/version'),
        hostname: await debugfsCat(join(dir, clone.path), '/etc/hostname'),
      });
    }
    return out;
  }

  const children = async (operation: string) =>
    (await api.get('/v1/operations?limit=200')).body.items.filter((o: any) => o.parent === operation);

  it('rolls version 2 out machine by machine with the same hostnames, and rolls back to the standbys instantly and idempotently', async () => {
    const d = await service();
    const before = await running(d);
    expect(before.map((r) => [r.version, r.hostname])).toEqual([
      ['1\n', 'svc-1\n'],
      ['1\n', 'svc-2\n'],
    ]);

    const r = await api.post('/v1/service-updates', { deployment: d.id, newMaster: v2, waves: { size: 1 } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 180_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const after = await running(d);
    expect(after.map((x) => [x.version, x.hostname])).toEqual([
      ['2\n', 'svc-1\n'],
      ['2\n', 'svc-2\n'],
    ]);
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(view.machines.map((m: any) => [m.old, m.new, m.outcome])).toEqual(
      before.map((b, i) => [b.clone, after[i]!.clone, 'succeeded']),
    );
    for (const b of before) expect((await api.get(`/v1/clones/${b.clone}`)).body.binding).toBe('unassigned');

    const back = await api.post(`/v1/service-updates/${r.body.id}/rollback`);
    expect(back.status, JSON.stringify(back.body)).toBe(202);
    const rolled = await api.wait(back.body.operation, 180_000);
    expect(rolled.status, JSON.stringify(rolled)).toBe('succeeded');
    expect((await running(d)).map((x) => x.clone)).toEqual(before.map((b) => b.clone));
    expect((await running(d)).map((x) => x.hostname)).toEqual(['svc-1\n', 'svc-2\n']);
    // Nothing cloned, nothing customized: the old clones were bound as they were.
    const kinds = (await children(rolled.id)).map((o: any) => o.kind);
    expect(kinds).not.toContain('clone');
    for (const o of await children(rolled.id)) if (o.kind === 'assign') expect(o.request.from).toBe(o.request.to);
    expect((await api.get(`/v1/service-updates/${r.body.id}`)).body.status).toBe('rolled_back');

    const again = await api.post(`/v1/service-updates/${r.body.id}/rollback`);
    expect(again.status).toBe(202);
    const second = await api.wait(again.body.operation, 60_000);
    expect(second.status).toBe('succeeded');
    expect(await children(second.id)).toEqual([]);

    // Finalizing the rolled-back update destroys the new clones; the machines keep their old ones.
    const fin = await api.post(`/v1/service-updates/${r.body.id}/finalize`);
    expect(fin.status, JSON.stringify(fin.body)).toBe(202);
    expect((await api.wait(fin.body.operation, 120_000)).status).toBe('succeeded');
    for (const a of after) expect((await api.get(`/v1/clones/${a.clone}`)).body.status ?? 'gone').not.toBe('ready');
    expect((await running(d)).map((x) => x.clone)).toEqual(before.map((b) => b.clone));
    const refused = await api.post(`/v1/service-updates/${r.body.id}/rollback`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('nothing to switch to');
  }, 300_000);

  it("leaves out the old clones' variables that the new master does not use, and says so in each machine's row", async () => {
    const name = unique('ntp');
    await makeExt4(join(dir, `masters/${name}.img`), { ...baseFiles, 'etc/version': '1\n' });
    const ntp = { type: 'file', path: '/etc/ntp.conf', content: 'server ${ntp}\n' };
    const imported = await api.run('/v1/masters', {
      name,
      repository: (await api.get(`/v1/masters/${v1}`)).body.repository,
      path: `masters/${name}.img`,
      customization: [...hostnameItems, ntp],
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    const d = await service(['', ''], name, { hostname: 'svc-${index}', ntp: 'ntp-${index}.example.org' });

    const r = await api.post('/v1/service-updates', { deployment: d.id, newMaster: v2 });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 180_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect((await running(d)).map((x) => [x.version, x.hostname])).toEqual([
      ['2\n', 'svc-1\n'],
      ['2\n', 'svc-2\n'],
    ]);
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    const note = `variable ntp of the old clone dropped: the template of master ${v2}@1 does not use it`;
    for (const rows of [view.machines, view.members])
      expect(rows.map((m: any) => [m.outcome, m.dropped, m.message])).toEqual([
        ['succeeded', ['ntp'], note],
        ['succeeded', ['ntp'], note],
      ]);
    expect(view.members.map((m: any) => m.variables)).toEqual([{ hostname: 'svc-1' }, { hostname: 'svc-2' }]);
  }, 300_000);

  it('checks each machine after its activation: a machine that fails is switched back at once and the wave stops there', async () => {
    const d = await service(['svc-1 ready', 'svc-2 kernel panic', 'svc-3 ready']);
    const before = await running(d);
    const r = await api.post('/v1/service-updates', {
      deployment: d.id,
      newMaster: v2,
      waves: { size: 1, pauseOnFailure: true },
      healthCheck: { kind: 'console', marker: '^${hostname} ready$', timeoutSeconds: 2 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 180_000);
    expect(op.status).toBe('failed');
    expect(op.error.message).toContain('1 of 3 members failed');
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(view.machines.map((m: any) => m.outcome)).toEqual(['succeeded', 'failed', 'skipped']);
    expect(view.machines[0].health).toMatchObject({ healthy: true });
    expect(view.machines[1].health).toMatchObject({ healthy: false });
    expect(view.machines[1].health.detail).toContain('/^svc-2 ready$/');
    expect(view.machines[1].error).toMatchObject({ code: 'unhealthy', step: 'health' });
    // The unhealthy machine runs its old clone again and its new one is gone; the third was never touched.
    const now = await running(d);
    expect(now.map((x) => x.version)).toEqual(['2\n', '1\n', '1\n']);
    expect(now.map((x) => x.hostname)).toEqual(['svc-1\n', 'svc-2\n', 'svc-3\n']);
    expect(now.slice(1).map((x) => x.clone)).toEqual(before.slice(1).map((b) => b.clone));
    expect((await api.get(`/v1/clones/${view.machines[1].new}`)).body.status ?? 'gone').not.toBe('ready');
    // A service update's machines are not quarantined for a failed member: it runs its old clone.
    expect((await api.get(`/v1/machines/${d.members[1].machine}`)).body.state).toBe('ready');
  }, 300_000);

  it('checks a machine on request: tcp and http probes, a console that shows nothing, and garbage refused', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const m = await makeMachine(api);
      const check = (body: unknown) => api.run(`/v1/machines/${m.id}/health-check`, body);
      const tcp = await check({ kind: 'tcp', host: '127.0.0.1', port, timeoutSeconds: 2 });
      expect(tcp.status, JSON.stringify(tcp)).toBe('succeeded');
      expect(tcp.result).toMatchObject({ machine: m.id, healthy: true });
      const ok = await check({ kind: 'http', url: `http://127.0.0.1:${port}/ok`, timeoutSeconds: 2 });
      expect(ok.status).toBe('succeeded');
      const bad = await check({ kind: 'http', url: `http://127.0.0.1:${port}/down`, timeoutSeconds: 2 });
      expect(bad.status).toBe('failed');
      expect(bad.error).toMatchObject({ code: 'unhealthy' });
      expect(bad.error.message).toContain('answered 503, not 200');
      server.close();
      const closed = await check({ kind: 'tcp', host: '127.0.0.1', port, timeoutSeconds: 1 });
      expect(closed.error.message).toContain('ECONNREFUSED');
      // The sim machine is off: its console shows nothing.
      const silent = await check({ kind: 'console', marker: 'login:', timeoutSeconds: 1 });
      expect(silent.error).toMatchObject({ code: 'unhealthy' });
      for (const garbage of [{ kind: 'ping' }, { kind: 'tcp', host: 'x', port: 0 }, { kind: 'http', url: 'ftp://x' }]) {
        const r = await api.post(`/v1/machines/${m.id}/health-check`, garbage);
        expect(r.status, JSON.stringify(garbage)).toBe(400);
      }
    } finally {
      server.close();
    }
  }, 120_000);

  /** A master of its own at version 1, for a test that captures its next version. */
  async function freshMaster() {
    const name = unique('svc-master');
    await makeExt4(join(dir, `masters/${name}.img`), { ...baseFiles, 'etc/version': '1\n' });
    const repo = (await api.get(`/v1/masters/${v1}`)).body.repository;
    const op = await api.run('/v1/masters', {
      name,
      repository: repo,
      path: `masters/${name}.img`,
      customization: hostnameItems,
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    return name;
  }

  const idle = async (machine: string) => {
    const m = (await api.get(`/v1/machines/${machine}`)).body;
    return { state: m.state, clone: m.clone ?? null };
  };

  it('prepares an update on a staging machine with a hook, waits, and on approval captures it as the next version and rolls it out', async () => {
    const master = await freshMaster();
    const d = await service(['', ''], master);
    const before = await running(d);
    const staging = await makeMachine(api);
    const r = await api.post('/v1/service-updates', {
      deployment: d.id,
      stagingMachine: staging.name,
      hook: 'set-version-2',
      variables: { hostname: 'staging' },
      waves: { size: 2 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const prepared = await api.wait(r.body.operation, 180_000);
    expect(prepared.status, JSON.stringify(prepared)).toBe('succeeded');
    expect(prepared.kind).toBe('service_update_prepare');
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(view.status).toBe('prepared');
    expect(view.staging).toMatchObject({ machine: staging.name, outcome: 'succeeded' });
    // The staging clone runs in maintenance with the hook's change; the service was not touched.
    const clone = (await api.get(`/v1/clones/${view.staging.clone}`)).body;
    expect(clone).toMatchObject({ metastate: 'maintenance', binding: 'active', machine: staging.id });
    expect(await debugfsCat(join(dir, clone.path), '/etc/version')).toBe('2\n');
    expect(await debugfsCat(join(dir, clone.path), '/etc/hostname')).toBe('staging\n');
    expect((await running(d)).map((x) => x.clone)).toEqual(before.map((b) => b.clone));
    const hooks = (await children(prepared.id)).filter((o: any) => o.kind === 'hook');
    expect(hooks.map((o: any) => [o.status, o.result.output])).toEqual([['succeeded', 'version 2 written']]);
    expect((await api.get(`/v1/machines/${staging.id}`)).body.state).toBe('reserved');
    // Waiting for the operator: a finalize has nothing to finalize, and the machines stay reserved.
    expect((await api.post(`/v1/service-updates/${r.body.id}/finalize`)).status).toBe(409);
    expect((await api.get(`/v1/machines/${d.members[0].machine}`)).body.state).toBe('reserved');

    const ok = await api.post(`/v1/service-updates/${r.body.id}/approve`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    expect((await api.post(`/v1/service-updates/${r.body.id}/approve`)).status).toBe(409);
    const rolled = await api.wait(ok.body.operation, 240_000);
    expect(rolled.status, JSON.stringify(rolled)).toBe('succeeded');
    const v2 = (await api.get(`/v1/masters/${master}`)).body;
    expect(v2).toMatchObject({ version: 2, sourceClone: clone.id });
    expect(await debugfsCat(join(dir, v2.path), '/etc/version')).toBe('2\n');
    const after = await running(d);
    expect(after.map((x) => [x.version, x.hostname])).toEqual([
      ['2\n', 'svc-1\n'],
      ['2\n', 'svc-2\n'],
    ]);
    const done = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(done).toMatchObject({ status: 'succeeded', master: v2.id, staging: { outcome: 'captured' } });
    expect((await api.get(`/v1/clones/${clone.id}`)).body.status).toBe('captured');
    expect(await idle(staging.id)).toEqual({ state: 'ready', clone: null });
    // The old clones are the standbys: a rollback goes back to version 1 at once.
    const back = await api.post(`/v1/service-updates/${r.body.id}/rollback`);
    expect((await api.wait(back.body.operation, 180_000)).status).toBe('succeeded');
    expect((await running(d)).map((x) => x.clone)).toEqual(before.map((b) => b.clone));
  }, 400_000);

  it('lets an operator prepare by hand or with a machine hook, and drops a prepared update on rollback', async () => {
    const master = await freshMaster();
    const d = await service(['', ''], master);
    const before = await running(d);
    const staging = await makeMachine(api);
    const r = await api.post('/v1/service-updates', {
      machines: d.members.map((m: any) => m.machine),
      stagingMachine: staging.id,
      hook: 'note-machine',
      variables: { hostname: 'staging' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect((await api.wait(r.body.operation, 180_000)).status).toBe('succeeded');
    const home = inject('stack').home;
    const noted = await readFile(join(home, 'noted', staging.name), 'utf8');
    expect(noted.split(' ').slice(0, 2)).toEqual([staging.id, 'sim']);
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    const cloneId = view.staging.clone;
    expect((await api.get(`/v1/clones/${cloneId}`)).body).toMatchObject({
      metastate: 'maintenance',
      binding: 'active',
    });

    const back = await api.post(`/v1/service-updates/${r.body.id}/rollback`);
    expect(back.status).toBe(202);
    expect((await api.wait(back.body.operation, 180_000)).status).toBe('succeeded');
    const dropped = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(dropped.status).toBe('rolled_back');
    expect(dropped.machines.map((m: any) => m.outcome)).toEqual(['skipped', 'skipped']);
    expect((await api.get(`/v1/clones/${cloneId}`)).body.status ?? 'gone').not.toBe('ready');
    expect(await idle(staging.id)).toEqual({ state: 'ready', clone: null });
    for (const m of d.members) expect((await idle(m.machine)).state).toBe('ready');
    expect((await running(d)).map((x) => x.clone)).toEqual(before.map((b) => b.clone));
    expect((await api.post(`/v1/service-updates/${r.body.id}/approve`)).status).toBe(409);
    expect((await api.get(`/v1/masters/${master}`)).body.version).toBe(1);

    // By hand: no hook; the clone waits in maintenance on the staging machine.
    const manual = await api.post('/v1/service-updates', {
      deployment: d.id,
      stagingMachine: staging.id,
      variables: { hostname: 'staging' },
    });
    expect(manual.status).toBe(202);
    expect((await api.wait(manual.body.operation, 180_000)).status).toBe('succeeded');
    const waiting = (await api.get(`/v1/service-updates/${manual.body.id}`)).body;
    expect(waiting.status).toBe('prepared');
    expect((await children(manual.body.operation)).map((o: any) => o.kind)).not.toContain('hook');
    const drop = await api.post(`/v1/service-updates/${manual.body.id}/rollback`);
    expect((await api.wait(drop.body.operation, 180_000)).status).toBe('succeeded');
    expect(await idle(staging.id)).toEqual({ state: 'ready', clone: null });
  }, 400_000);

  it('refuses what cannot be prepared, and cleans up after a hook that fails', async () => {
    const master = await freshMaster();
    const d = await service(['', ''], master);
    const staging = await makeMachine(api);
    const post = (extra: Record<string, unknown>) => api.post('/v1/service-updates', { deployment: d.id, ...extra });
    const unknown = await post({ stagingMachine: staging.id, hook: 'rm-rf' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('no hook "rm-rf"');
    expect(unknown.body.error.message).toContain('set-version-2');
    expect((await post({ stagingMachine: d.members[0].machine })).status).toBe(400);
    expect((await post({ hook: 'set-version-2', newMaster: v2 })).status).toBe(400);
    expect((await post({ stagingMachine: staging.id, hook: 'echo hi; rm -rf /' })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    // Nothing was reserved by the refusals.
    expect((await idle(staging.id)).state).toBe('ready');
    for (const m of d.members) expect((await idle(m.machine)).state).toBe('ready');

    const r = await post({ stagingMachine: staging.id, hook: 'always-fails', variables: { hostname: 'staging' } });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 180_000);
    expect(op.status).toBe('failed');
    expect(op.error.code).toBe('hook_failed');
    expect(op.error.message).toContain('the update does not apply');
    expect(op.error.message).toContain('no machine of the service was touched');
    const view = (await api.get(`/v1/service-updates/${r.body.id}`)).body;
    expect(view.status).toBe('failed');
    expect((await api.get(`/v1/clones/${view.staging.clone}`)).body.status ?? 'gone').not.toBe('ready');
    expect(await idle(staging.id)).toEqual({ state: 'ready', clone: null });
    for (const m of d.members) expect((await idle(m.machine)).state).toBe('ready');
    expect((await api.post(`/v1/service-updates/${r.body.id}/approve`)).status).toBe(409);
  }, 300_000);

  it('finalizes an update that stays by destroying the standby clones, and refuses what it cannot do', async () => {
    const d = await service();
    const before = await running(d);
    const r = await api.post('/v1/service-updates', {
      machines: d.members.map((m: any) => m.machine),
      newMaster: v2,
      waves: { size: 2 },
    });
    expect(r.status).toBe(202);
    expect((await api.post(`/v1/service-updates/${r.body.id}/rollback`)).status).toBe(409);
    expect((await api.wait(r.body.operation, 180_000)).status).toBe('succeeded');
    const fin = await api.post(`/v1/service-updates/${r.body.id}/finalize`);
    expect(fin.status).toBe(202);
    expect((await api.wait(fin.body.operation, 120_000)).status).toBe('succeeded');
    for (const b of before) expect((await api.get(`/v1/clones/${b.clone}`)).body.status ?? 'gone').not.toBe('ready');
    expect((await running(d)).map((x) => x.version)).toEqual(['2\n', '2\n']);
    expect((await api.post(`/v1/service-updates/${r.body.id}/rollback`)).status).toBe(409);

    const staging = await api.post('/v1/service-updates', { deployment: d.id, newMaster: v2, stagingMachine: 'x' });
    expect(staging.status).toBe(400);
    expect(staging.body.error.message).toContain('newMaster');
    const same = await api.post('/v1/service-updates', { deployment: d.id, newMaster: v2 });
    expect(same.status).toBe(409);
  }, 300_000);
});
