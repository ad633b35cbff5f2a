/**
 * Deployments with a fanout, through the whole stack on sim machines: the clones are made as a
 * tree of relays in shared repositories, each member's clone lands in its machine's host-local
 * repository, every node keeps to its repository's clones-per-source limit, each clone records the
 * images it was copied through, and no relay outlives the deployment's phase, whether it succeeds
 * or rolls back.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type HostAgent, startHostAgent, stopHostAgent } from '../../support/agents';
import { Api } from '../../support/api';
import { hostnameItems, makeMachine, unique } from '../../support/fixtures';
import { baseFiles, debugfsCat, makeExt4 } from '../../support/images';

const api = Api.admin();

async function repository(extra: Record<string, unknown> = {}) {
  await mkdir(join(inject('stack').home, 'repos'), { recursive: true });
  const dir = await mkdtemp(join(inject('stack').home, 'repos', 'tree-'));
  const r = await api.createRepository({
    name: unique('repo'),
    site: 'local',
    kind: 'file',
    path: dir,
    ...extra,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { dir, ...r.body } as { dir: string; id: string; name: string };
}

describe('deployments as a tree (fanout)', () => {
  /** The master's repository: shared, at most 2 clones per source. */
  let home: { dir: string; id: string; name: string };
  /** Another shared repository, without a limit, that a request may name. */
  let other: { dir: string; id: string; name: string };
  const local: Record<string, { dir: string; id: string; name: string }> = {};
  let master: { id: string; name: string };
  let hostA: string;
  let hostB: string;
  let agentB: HostAgent | undefined;

  afterAll(async () => {
    if (agentB) await stopHostAgent(api, 'local', agentB);
  });

  beforeAll(async () => {
    home = await repository({ limits: { clonesPerSource: 2 } });
    other = await repository();
    // Host A is the stack agent's; host B gets an agent of its own for this suite.
    hostA = Object.keys((await api.get('/v1/sites/local')).body.agents)[0]!;
    hostB = unique('hb');
    const token = (await api.post('/v1/tokens', { role: 'agent', site: 'local', label: 'tree test' })).body.token;
    const dir = await mkdtemp(join(inject('stack').home, 'tree-'));
    agentB = await startHostAgent({
      stack: inject('stack'),
      site: 'local',
      host: hostB,
      token,
      dir,
      sharedWork: false,
    });
    local[hostA] = await repository({ host: hostA });
    local[hostB] = await repository({ host: hostB });
    await makeExt4(join(home.dir, 'masters/base.img'), baseFiles, 24);
    const name = unique('master');
    const op = await api.run('/v1/masters', {
      name,
      repository: home.name,
      path: 'masters/base.img',
      customization: hostnameItems,
    });
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    master = (await api.get(`/v1/masters/${name}`)).body;
  }, 120_000);

  /** 8 sim machines: 4 on host A, 3 on host B, 1 on no host; `settings` by position. */
  async function machines(settings: Record<number, Record<string, unknown>> = {}) {
    const made: { id: string; name: string; host?: string }[] = [];
    const hosts = [hostA, hostA, hostA, hostA, hostB, hostB, hostB, undefined];
    for (const [i, host] of hosts.entries())
      made.push(await makeMachine(api, { ...(host ? { host } : {}), settings: settings[i] ?? {} }));
    return made;
  }

  /** Children per node (by name) of a dry run's tree. */
  const childrenOf = (nodes: any[]) => {
    const count = new Map<string, number>();
    for (const n of nodes) if (n.parent) count.set(n.parent, (count.get(n.parent) ?? 0) + 1);
    return count;
  };

  it('plans a tree in a dry run: relays in shared repositories, each clone beside its machine, no node past its limit, and an estimate', async () => {
    const ms = await machines();
    const r = await api.post('/v1/deployments', {
      master: master.name,
      machines: ms.map((m) => m.name),
      name: `dry-\${index}-${unique('t')}`,
      variables: { hostname: 'h-${index}' },
      fanout: 4,
      method: 'reflink',
      dryRun: true,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const { plan, tree } = r.body;
    // The master's repository allows 2 clones per source, so its fanout of 4 is 2 there: 2, then 4 relays, then 8 clones.
    expect(tree.generations).toEqual([
      { generation: 1, copies: 2 },
      { generation: 2, copies: 4 },
      { generation: 3, copies: 8 },
    ]);
    const relays = tree.nodes.filter((n: any) => n.kind === 'relay');
    expect(relays).toHaveLength(6);
    // They live in the master's repository, which is shared.
    for (const n of relays) expect(n).toMatchObject({ repository: home.name, method: 'sparse' });
    const children = childrenOf(tree.nodes);
    for (const n of tree.nodes.filter((x: any) => x.kind !== 'member'))
      expect(children.get(n.name) ?? 0).toBeLessThanOrEqual(2);
    for (const [i, m] of ms.entries()) {
      const entry = plan.find((p: any) => p.machine === m.name);
      expect(entry.repository).toBe(m.host ? local[m.host]!.name : home.name);
      expect(entry.generation).toBe(3);
      expect(relays.map((n: any) => n.name)).toContain(entry.source);
      // A reflink cannot cross repositories: such a leaf is copied with auto, and the plan says why.
      const node = tree.nodes.find((n: any) => n.kind === 'member' && n.index === i + 1);
      const parent = relays.find((n: any) => n.name === node.parent);
      expect(node.method).toBe(parent.repository === entry.repository ? 'reflink' : 'auto');
      if (node.method === 'auto') expect(node.note).toContain('across repositories');
    }
    expect(tree.estimate.seconds).toBeGreaterThan(0);
    expect(tree.estimate.perGeneration).toHaveLength(3);
    expect(tree.estimate.measured).toContain('bench:cascade');
    for (const m of ms) expect((await api.get(`/v1/machines/${m.id}`)).body.state).toBe('ready');

    // A repository named in the request takes every member's clone.
    const named = await api.post('/v1/deployments', {
      master: master.name,
      machines: ms.map((m) => m.name),
      variables: { hostname: 'h-${index}' },
      repository: other.name,
      fanout: 4,
      dryRun: true,
    });
    expect(named.status, JSON.stringify(named.body)).toBe(200);
    expect(new Set(named.body.plan.map((p: any) => p.repository))).toEqual(new Set([other.name]));
  });

  it('deploys 8 members through a tree: each clone records its chain of relays, lands beside its machine, and every relay is gone at the end', async () => {
    const ms = await machines();
    const r = await api.post('/v1/deployments', {
      master: master.name,
      machines: ms.map((m) => m.name),
      name: `tree-\${index}-${unique('t')}`,
      variables: { hostname: 'tree-${index}' },
      fanout: 4,
      method: 'sparse',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 300_000);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(op.result.relays).toEqual({ made: 6, removed: 6, left: [] });
    const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
    expect(d.tree.relays).toHaveLength(6);
    const relays = new Map<string, any>(d.tree.relays.map((x: any) => [x.name, x]));
    for (const relay of relays.values()) {
      expect(relay).toMatchObject({ removed: true });
      expect(relay.repository).toBe(home.id);
      const clone = (await api.get(`/v1/clones/${relay.cloneId}`)).body;
      expect(clone).toMatchObject({ status: 'destroyed', relayOf: d.id, master: master.id, metastate: 'clean' });
      const parent = relay.parent ? relays.get(relay.parent).cloneId : undefined;
      expect(clone.lineage).toEqual(parent ? [master.id, parent] : [master.id]);
    }
    // No node has more children than its repository allows.
    const children = new Map<string, number>();
    for (const x of [...relays.values(), ...d.members])
      children.set(x.parent ?? x.source ?? master.name, (children.get(x.parent ?? x.source ?? master.name) ?? 0) + 1);
    expect(children.get(master.name)).toBeLessThanOrEqual(2);
    for (const relay of relays.values()) expect(children.get(relay.name) ?? 0).toBeLessThanOrEqual(2);

    for (const [i, m] of d.members.entries()) {
      expect(m).toMatchObject({ outcome: 'succeeded', generation: 3 });
      const gen1 = relays.get(relays.get(m.source).parent);
      expect(m.lineage).toEqual([master.name, gen1.name, m.source]);
      const clone = (await api.get(`/v1/clones/${m.cloneId}`)).body;
      expect(clone.lineage).toEqual([master.id, gen1.cloneId, relays.get(m.source).cloneId]);
      const host = ms[i]!.host;
      const repo = host ? local[host]! : home;
      expect(clone).toMatchObject({ repository: repo.id, binding: 'active', machine: ms[i]!.id });
      expect(clone.relayOf).toBeUndefined();
      expect(await debugfsCat(join(repo.dir, clone.path), '/etc/hostname')).toBe(`tree-${i + 1}\n`);
    }
    const ops = (await api.get('/v1/operations?limit=500')).body.items.filter((o: any) => o.parent === op.id);
    const kinds = ops.map((o: any) => o.kind);
    expect(kinds.filter((k: string) => k === 'clone')).toHaveLength(8 + 6);
    expect(kinds.filter((k: string) => k === 'destroy')).toHaveLength(6);

    const del = await api.del(`/v1/deployments/${d.id}`);
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    expect((await api.wait(del.body.operation, 300_000)).status).toBe('succeeded');
  }, 600_000);

  it('rolls a failed tree deployment back with no relay left behind', async () => {
    const ms = await machines({ 2: { failBoot: true } });
    const r = await api.post('/v1/deployments', {
      master: master.name,
      machines: ms.map((m) => m.name),
      name: `rb-\${index}-${unique('t')}`,
      variables: { hostname: 'rb-${index}' },
      fanout: 3,
      failurePolicy: { onFailure: 'rollback' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 300_000);
    expect(op.status).toBe('failed');
    const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
    expect(d.status).toBe('rolled_back');
    for (const relay of d.tree.relays) {
      if (!relay.cloneId) continue;
      expect(relay.removed).toBe(true);
      expect((await api.get(`/v1/clones/${relay.cloneId}`)).body.status).toBe('destroyed');
    }
    const left = (await api.get('/v1/clones?limit=500')).body.items.filter(
      (c: any) => c.relayOf === d.id && c.status !== 'destroyed',
    );
    expect(left).toEqual([]);
    for (const m of d.members)
      if (m.cloneId) expect((await api.get(`/v1/clones/${m.cloneId}`)).body.status ?? 'gone').not.toBe('ready');
  }, 600_000);

  it('refuses a tree that needs relays when the limits leave no room to fan out', async () => {
    const narrow = await repository({ limits: { clonesPerSource: 1 } });
    await makeExt4(join(narrow.dir, 'masters/base.img'), baseFiles, 16);
    const name = unique('master');
    expect((await api.run('/v1/masters', { name, repository: narrow.name, path: 'masters/base.img' })).status).toBe(
      'succeeded',
    );
    const ms = await machines();
    const r = await api.post('/v1/deployments', {
      master: name,
      machines: ms.slice(0, 3).map((m) => m.name),
      fanout: 2,
      dryRun: true,
    });
    // Its relays would live in the master's repository too, where each image may have one clone: 3 members are never reached.
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'tree_too_narrow', repository: narrow.name, limit: 1 });
  });
});
