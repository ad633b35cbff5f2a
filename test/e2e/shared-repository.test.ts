/**
 * The paper's GPFS case: one shared repository directory that every host mounts at the same path
 * holds the master, an agent process on each of three hosts reaches it, and each host has a
 * host-local repository where the clones of its machines land. Here a local directory stands for
 * GPFS and three agent processes on this machine stand for the hosts.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type HostAgent, removeSiteClones, startHostAgent, startHostAgents } from '../support/agents';
import { Api } from '../support/api';
import { unique } from '../support/fixtures';
import { baseFiles, debugfsCat, hostnameItems, makeExt4 } from '../support/images';

const api = Api.admin();
const HOSTS = ['gpfs-a', 'gpfs-b', 'gpfs-c'] as const;
type Host = (typeof HOSTS)[number];

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('a shared (GPFS) repository with agents on several hosts', () => {
  const site = unique('gpfs').replace(/-/g, '');
  // Named before the agents start: their configurations list the shared repositories they reach.
  const gpfsName = unique('gpfs');
  const nasName = unique('nas');
  let root: string;
  let agents: HostAgent[] = [];
  const dirOf = (name: string) => join(root, name);
  let gpfs: { id: string; name: string; path: string };
  let nas: { id: string; name: string; path: string };
  const local = {} as Record<Host, { id: string; name: string; path: string }>;
  const machines = {} as Record<Host, { id: string; name: string }[]>;
  let master: { id: string; name: string; path: string };
  const masters: string[] = [];

  const agentOf = (h: Host) => agents.find((a) => a.host === h)!;
  /** The journal entry of the task `task` of operation `op` on host `h`'s agent; undefined if it did not run it. */
  const journaled = async (h: Host, op: string, task: string) =>
    readFile(join(agentOf(h).stateDir, 'journal', `${op}.${task}.json`), 'utf8').then(
      (t) => JSON.parse(t),
      () => undefined,
    );
  const hostOf = (machine: string) => HOSTS.find((h) => machines[h].some((m) => m.id === machine))!;

  beforeAll(async () => {
    root = await mkdtemp(join(inject('stack').home, 'gpfs-'));
    expect((await api.post('/v1/sites', { name: site })).status).toBe(201);
    // a and b reach both shared repositories; c's configuration leaves out the NAS (not mounted there).
    agents = await startHostAgents(api, {
      stack: inject('stack'),
      site,
      hosts: HOSTS,
      dir: root,
      label: 'gpfs test',
      options: (h) => ({ repositories: { shared: h === 'gpfs-c' ? [gpfsName] : [gpfsName, nasName] } }),
    });
    const repo = async (name: string, host?: Host) => {
      await mkdir(dirOf(name), { recursive: true });
      const r = await api.createRepository({ name, site, kind: 'file', path: dirOf(name), ...(host ? { host } : {}) });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.status, JSON.stringify(r.body)).toBe('ready');
      return r.body;
    };
    gpfs = await repo(gpfsName);
    nas = await repo(nasName);
    for (const h of HOSTS) local[h] = await repo(unique(`local-${h}`), h);
    await makeExt4(join(gpfs.path, 'masters/base.img'), baseFiles, 32);
    const op = await api.run('/v1/masters', {
      name: unique('base'),
      repository: gpfs.name,
      path: 'masters/base.img',
      customization: hostnameItems,
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    master = (await api.get(`/v1/masters/${op.resource.id}`)).body;
    masters.push(master.id);
    for (const h of HOSTS) {
      machines[h] = [];
      for (let i = 0; i < 2; i++) {
        const m = await api.post('/v1/machines', { name: unique(`m-${h}`), site, kind: 'sim', host: h });
        expect(m.status, JSON.stringify(m.body)).toBe(201);
        machines[h].push(m.body);
      }
    }
  }, 120_000);

  afterAll(async () => {
    // Torn down while the agents still run: each step is a task of the host it is on.
    await removeSiteClones(api, site);
    await Promise.all(agents.map((a) => a.child.stop()));
    for (const m of Object.values(machines).flat()) await api.del(`/v1/machines/${m.id}`);
    for (const id of masters) await api.del(`/v1/masters/${id}`);
    for (const r of [gpfs, nas, ...Object.values(local)]) if (r) await api.del(`/v1/repositories/${r.id}`);
    for (const h of HOSTS) await api.del(`/v1/sites/${site}/agents/${h}`);
    const gone = await api.del(`/v1/sites/${site}`);
    await rm(root, { recursive: true, force: true });
    // Nothing of the site is left behind for the suites after it.
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
  }, 180_000);

  it("clones the shared master into each host's own repository, on that host's agent, customized there", async () => {
    for (const h of HOSTS) {
      const name = unique(`one-${h}`);
      const op = await api.run('/v1/clones', { master: master.id, name, repository: local[h].name });
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      expect(op.host).toBe(h);
      // Only h's agent ran it, reading the master in the shared directory and writing h's.
      for (const other of HOSTS)
        expect(await journaled(other, op.id, 'clone'), other).toEqual(other === h ? expect.anything() : undefined);
      const input = (await journaled(h, op.id, 'clone')).delivery.input;
      expect(input.source).toMatchObject({ repository: { path: gpfs.path }, path: master.path });
      expect(input.target.repository.path).toBe(local[h].path);
      const clone = (await api.get(`/v1/clones/${name}`)).body;
      expect(clone.repository).toBe(local[h].id);
      const assigned = await api.run(`/v1/clones/${clone.id}/assign`, {
        machine: machines[h][0]!.id,
        customization: { variables: { hostname: name } },
      });
      expect(assigned.status, JSON.stringify(assigned)).toBe('succeeded');
      expect(assigned.host).toBe(h);
      expect(await journaled(h, assigned.id, 'customize')).toBeTruthy();
      const image = (await api.get(`/v1/clones/${clone.id}`)).body.path;
      expect(await debugfsCat(join(local[h].path, image), '/etc/hostname')).toBe(`${name}\n`);
      for (const other of HOSTS)
        expect(
          (await filesUnder(local[other].path)).some((f) => f.includes(name)),
          other,
        ).toBe(other === h);
    }
    // The master stays where it was, in the one shared directory, unchanged.
    expect(await debugfsCat(join(gpfs.path, master.path), '/etc/hostname')).toBe('template\n');
  }, 90_000);

  it("deploys over the hosts as a tree: relays in the shared directory, each clone in its machine's host's", async () => {
    const members = HOSTS.map((h) => machines[h][1]!);
    const r = await api.post('/v1/deployments', {
      master: master.id,
      machines: members.map((m) => m.id),
      name: `${unique('dp')}-\${index}`,
      variables: { hostname: '${machine.name}' },
      fanout: 2,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 120_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
    // Three members and fanout 2: two relays, copies of the master, in the shared repository.
    expect(d.tree.relays).toHaveLength(2);
    for (const relay of d.tree.relays) expect([gpfs.id, gpfs.name]).toContain(relay.repository);
    for (const member of d.members) {
      expect(member.outcome, JSON.stringify(member)).toBe('succeeded');
      const h = hostOf(member.machine);
      const clone = (await api.get(`/v1/clones/${member.clone}`)).body;
      expect(clone.repository).toBe(local[h].id);
      expect(clone).toMatchObject({ binding: 'active', machine: member.machine });
      const made = (await api.get(`/v1/operations?resource=${clone.id}&kind=clone`)).body.items;
      expect(made).toHaveLength(1);
      const input = (await journaled(h, made[0].id, 'clone')).delivery.input;
      // Copied from its relay in the shared directory, by its own host's agent, into its host's.
      expect(input.source.repository.path).toBe(gpfs.path);
      expect(input.target.repository.path).toBe(local[h].path);
      for (const other of HOSTS.filter((x) => x !== h))
        expect(await journaled(other, made[0].id, 'clone')).toBeUndefined();
      const name = members.find((m) => m.id === member.machine)!.name;
      expect(await debugfsCat(join(local[h].path, clone.path), '/etc/hostname')).toBe(`${name}\n`);
      for (const other of HOSTS)
        expect(
          (await filesUnder(local[other].path)).some((f) => f.includes(clone.name)),
          other,
        ).toBe(other === h);
    }
    // The deployment's end removed its relays: the shared directory holds the master and nothing of theirs.
    const shared = await filesUnder(gpfs.path);
    expect(shared).toContain(master.path);
    for (const relay of d.tree.relays)
      expect(
        shared.some((f) => f.includes(relay.name)),
        relay.name,
      ).toBe(false);
  }, 150_000);

  it("fails as not_reached a task on a shared repository that the host's agent does not reach", async () => {
    await makeExt4(join(nas.path, 'nas.img'), baseFiles, 16);
    // Shared work: whichever agent takes it; c hands it back, the workflow offers it again.
    const imported = await api.run('/v1/masters', { name: unique('onnas'), repository: nas.name, path: 'nas.img' });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
    masters.push(imported.resource.id);
    // a reaches the NAS: its clone of the NAS master into a's repository is made.
    const onA = await api.run('/v1/clones', {
      master: imported.resource.id,
      name: unique('nas-a'),
      repository: local['gpfs-a'].name,
    });
    expect(onA.status, JSON.stringify(onA)).toBe('succeeded');
    // c does not: the task goes to c's lane only, c refuses it each time it is offered, and it fails.
    const name = unique('nas-c');
    const onC = await api.run('/v1/clones', { master: imported.resource.id, name, repository: local['gpfs-c'].name });
    expect(onC.status, JSON.stringify(onC)).toBe('failed');
    expect(onC.error.code, JSON.stringify(onC.error)).toBe('not_reached');
    expect(onC.error.message).toContain(nas.name);
    expect(onC.error.message).toContain('gpfs-c');
    expect(await journaled('gpfs-c', onC.id, 'clone')).toBeUndefined();
    expect((await filesUnder(local['gpfs-c'].path)).some((f) => f.includes(name))).toBe(false);
    const log = await readFile(join(root, 'agent-gpfs-c', 'agent.log'), 'utf8');
    expect(log).toContain(`needs repository ${nas.name}, which the agent on host gpfs-c does not reach`);
  }, 90_000);

  it("refuses work for a host whose agent has gone silent, and keeps the shared repository's work going", async () => {
    await agentOf('gpfs-c').child.stop();
    // The site believes an agent alive for 30 s after its last report (AGENT_SILENCE_MS).
    let status = 'ok';
    for (const until = Date.now() + 60_000; status === 'ok' && Date.now() < until; ) {
      await new Promise((res) => setTimeout(res, 1000));
      status = (await api.get('/v1/health')).body.agents[site]['gpfs-c'];
    }
    expect(status).toMatch(/^silent since /);
    const name = unique('late-c');
    const r = await api.post('/v1/clones', { master: master.id, name, repository: local['gpfs-c'].name });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'no_agent_on_host', host: 'gpfs-c', site });
    expect(r.body.error.message).toContain('silent since');
    expect((await api.get(`/v1/clones/${name}`)).status).toBe(404);
    // The shared repository is any live agent's work: a or b takes it.
    const shared = await api.run('/v1/clones', { master: master.id, name: unique('shared'), repository: gpfs.name });
    expect(shared.status, JSON.stringify(shared)).toBe('succeeded');
    const ranBy = [];
    for (const h of HOSTS) if (await journaled(h, shared.id, 'clone')) ranBy.push(h);
    expect(ranBy).toHaveLength(1);
    expect(ranBy[0]).not.toBe('gpfs-c');
    // Started again (same host, same state directory), c takes its host's work again.
    const token = (await api.post('/v1/tokens', { role: 'agent', site, label: 'gpfs test, c again' })).body.token;
    const again = await startHostAgent({
      stack: inject('stack'),
      site,
      host: 'gpfs-c',
      token,
      dir: root,
      repositories: { shared: [gpfsName] },
    });
    agents = [...agents.filter((a) => a.host !== 'gpfs-c'), again];
    const back = await api.run('/v1/clones', {
      master: master.id,
      name: unique('back-c'),
      repository: local['gpfs-c'].name,
    });
    expect(back.status, JSON.stringify(back)).toBe('succeeded');
    expect(await journaled('gpfs-c', back.id, 'clone')).toBeTruthy();
  }, 120_000);
});
