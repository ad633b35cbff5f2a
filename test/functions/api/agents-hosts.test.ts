/**
 * Several agents on one site: three real agent processes on hosts a, b and c, each with a host-local
 * repository, and a shared one. Work is routed to the host whose disk or machine it needs; an
 * unreachable placement is refused; killing one agent mid-deployment leaves its members failed
 * cleanly and the others finished.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from '../../../infra/local/children';
import { removeSiteClones, startHostAgent } from '../../support/agents';
import { Api } from '../../support/api';
import { unique } from '../../support/fixtures';
import { baseFiles, makeExt4 } from '../../support/images';

const api = Api.admin();
const HOSTS = ['a', 'b', 'c'] as const;
type Host = (typeof HOSTS)[number];

describe('several agents on one site', () => {
  const site = unique('hosts').replace(/-/g, '');
  let root: string;
  const agents = new Map<Host, Child>();
  const local = {} as Record<Host, { name: string; id: string }>;
  let shared: { name: string; id: string };
  let master: { id: string; name: string };
  const machines = {} as Record<Host, { id: string; name: string }[]>;

  const stateDir = (h: Host) => join(root, `agent-${h}`, 'state');
  /** Operations whose tasks the agent on `h` ran: its journal files are named after them. */
  const ranBy = async (h: Host) => (await readdir(join(stateDir(h), 'journal')).catch(() => [])).join(' ');

  async function start(h: Host, token: string) {
    const agent = await startHostAgent({ stack: inject('stack'), site, host: h, token, dir: root });
    agents.set(h, agent.child);
  }

  beforeAll(async () => {
    root = await mkdtemp(join(inject('stack').home, 'hosts-'));
    expect((await api.post('/v1/sites', { name: site })).status).toBe(201);
    const token = (await api.post('/v1/tokens', { role: 'agent', site, label: 'hosts test' })).body.token;
    await Promise.all(HOSTS.map((h) => start(h, token)));
    const repo = async (name: string, host?: Host) => {
      const path = join(root, `repo-${name}`);
      await mkdir(path, { recursive: true });
      const r = await api.createRepository({
        name: unique(name),
        site,
        kind: 'file',
        path,
        ...(host ? { host } : {}),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body;
    };
    shared = await repo('shared');
    for (const h of HOSTS) local[h] = await repo(`local-${h}`, h);
    await makeExt4(join(root, 'repo-shared', 'base.img'), baseFiles);
    const op = await api.run('/v1/masters', { name: unique('master'), repository: shared.name, path: 'base.img' });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    master = (await api.get(`/v1/masters/${op.resource.id}`)).body;
    for (const h of HOSTS) {
      machines[h] = [];
      for (let i = 0; i < 2; i++) {
        const m = await api.post('/v1/machines', { name: unique(`m${h}`), site, kind: 'sim', host: h });
        expect(m.status, JSON.stringify(m.body)).toBe(201);
        machines[h].push(m.body);
      }
    }
  }, 180_000);

  afterAll(async () => {
    // Torn down while the agents still run: each step is a task of the host it is on.
    await removeSiteClones(api, site);
    await Promise.all([...agents.values()].map((a) => a.stop()));
    const all = [...Object.values(machines).flat()];
    for (const m of all) await api.del(`/v1/machines/${m.id}`);
    await api.del(`/v1/masters/${master?.id}`);
    for (const r of [shared, ...Object.values(local)]) if (r) await api.del(`/v1/repositories/${r.id}`);
    for (const h of HOSTS) await api.del(`/v1/sites/${site}/agents/${h}`);
    await api.del(`/v1/sites/${site}`);
    await rm(root, { recursive: true, force: true });
  });

  it('shows every agent in the health check and on the site', async () => {
    const health = (await api.get('/v1/health')).body;
    expect(health.agents[site]).toEqual({ a: 'ok', b: 'ok', c: 'ok' });
    expect(health.sites[site]).toBe('ok');
    const s = (await api.get(`/v1/sites/${site}`)).body;
    expect(Object.keys(s.agents).sort()).toEqual(['a', 'b', 'c']);
  });

  it("runs work on a host-local repository on that host's agent only", async () => {
    for (const h of HOSTS) {
      const op = await api.run('/v1/clones', { master: master.id, name: unique(`on-${h}`), repository: local[h].name });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(op.host).toBe(h);
      for (const other of HOSTS) expect((await ranBy(other)).includes(op.id)).toBe(other === h);
    }
  }, 120_000);

  it('refuses a placement a machine cannot reach, naming what is missing and what would do', async () => {
    const op = await api.run('/v1/clones', { master: master.id, name: unique('on-a'), repository: local.a.name });
    const r = await api.post(`/v1/clones/${op.resource.id}/assign`, { machine: machines.b[0]!.id });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error.code).toBe('unreachable_repository');
    expect(r.body.error.message).toContain('local to host a');
    expect(r.body.error.reachable.sort()).toEqual([shared.name, local.b.name].sort());
    expect((await api.get(`/v1/clones/${op.resource.id}`)).body.binding).toBe('unassigned');
  }, 60_000);

  it('refuses work that would need two hosts at once, and writes nothing', async () => {
    // A master in a's local repository cloned into b's: nobody reaches both.
    await makeExt4(join(root, 'repo-local-a', 'a.img'), baseFiles);
    const imported = await api.run('/v1/masters', { name: unique('mastera'), repository: local.a.name, path: 'a.img' });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    expect(imported.host).toBe('a');
    const name = unique('cross');
    const r = await api.post('/v1/clones', { master: imported.resource.id, name, repository: local.b.name });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'cross_host', hosts: ['a', 'b'] });
    expect((await api.get(`/v1/clones/${name}`)).status).toBe(404);
    await api.del(`/v1/masters/${imported.resource.id}`);
  }, 60_000);

  it("finishes the members of live hosts and fails those of a killed agent's host cleanly", async () => {
    const all = HOSTS.flatMap((h) => machines[h]);
    const r = await api.post('/v1/deployments', {
      master: master.id,
      machines: all.map((m) => m.id),
      repository: shared.name,
      name: `k-\${index}-${unique('k')}`,
      failurePolicy: { onFailure: 'continue', maxFailures: 6 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    // Mid-deployment: the agent on host a dies without a word.
    await new Promise((res) => setTimeout(res, 1500));
    process.kill(agents.get('a')!.pid, 'SIGKILL');
    await agents.get('a')!.exited;
    agents.delete('a');
    const op = await api.wait(r.body.operation, 240_000);
    // A silent agent makes the health check degraded for every suite: forget it at once.
    expect((await api.del(`/v1/sites/${site}/agents/a`)).status).toBe(200);
    const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
    const byMachine = new Map(d.members.map((m: any) => [m.machine, m]));
    for (const m of [...machines.b, ...machines.c]) expect((byMachine.get(m.id) as any).outcome).toBe('succeeded');
    for (const m of machines.a) {
      const member = byMachine.get(m.id) as any;
      // Done before the kill, or failed with an error that says why; never left half-way.
      expect(['succeeded', 'failed']).toContain(member.outcome);
      if (member.outcome === 'failed') expect(member.error.message).toBeTruthy();
    }
    expect(['succeeded', 'failed']).toContain(op.status);
    const health = (await api.get('/v1/health')).body;
    expect(health.agents[site].b).toBe('ok');
  }, 300_000);
});
