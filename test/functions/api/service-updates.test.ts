/**
 * Service updates on sim machines through the whole stack: a deployment of version 1 is rolled to a
 * version-2 master in waves of one, each machine keeping its hostname; the rollback switches every
 * machine back to its standby clone without cloning or customizing anything, twice; finalize
 * destroys the standbys of an update that stays.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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
  async function service(consoles: string[] = ['', '']) {
    const tag = unique('svc');
    for (const [i, console] of consoles.entries())
      await makeMachine(api, { name: `${tag}-m${i + 1}`, tags: [tag], settings: { console } });
    const r = await api.post('/v1/deployments', {
      master: v1,
      count: consoles.length,
      selector: { tags: [tag] },
      name: `${tag}-\${index}`,
      variables: { hostname: 'svc-${index}' },
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
