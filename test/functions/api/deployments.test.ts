/**
 * Deployments on sim machines through the whole stack: many members as one operation, each member
 * a chain of real operations (clone, assign with its own variables, attach, activate) on a real ext4
 * image; reservation races, the dry run, client tokens, the failure policies with quarantine and
 * release, and the teardown of a delete.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeMachine, makeMaster, unique } from '../../support/fixtures';
import { debugfsCat } from '../../support/images';

const api = Api.admin();

describe('deployments', () => {
  let dir: string;
  let master: { name: string; id: string };
  let pool: string;

  /** `n` sim machines tagged with a pool tag of their own; extra settings by position. */
  async function machines(n: number, settings: Record<number, Record<string, unknown>> = {}) {
    const tag = unique('pool');
    const made = [];
    for (let i = 0; i < n; i++) made.push(await makeMachine(api, { tags: [tag], settings: settings[i] ?? {} }));
    return { tag, machines: made as { id: string; name: string }[] };
  }

  const deploy = (body: Record<string, unknown>) => api.post('/v1/deployments', { master: master.name, ...body });

  async function finished(r: { status: number; body: any }) {
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, 180_000);
    const d = (await api.get(`/v1/deployments/${r.body.id}`)).body;
    return { op, d };
  }

  beforeAll(async () => {
    const made = await makeMaster(api);
    dir = made.dir;
    master = made.master;
    pool = (await machines(0)).tag;
  }, 120_000);

  it('deploys a master onto three machines as one operation: each clone customized with its own hostname, attached and active', async () => {
    const { machines: ms } = await machines(3);
    const r = await deploy({
      machines: ms.map((m) => m.name),
      name: `web-\${index}-${unique('d')}`,
      variables: { hostname: 'web-${index}' },
    });
    const { op, d } = await finished(r);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
    expect(d.status).toBe('succeeded');
    expect(d.summary).toMatchObject({ members: 3, succeeded: 3, failed: 0 });
    for (const [i, m] of d.members.entries()) {
      expect(m).toMatchObject({ index: i + 1, machine: ms[i]!.id, step: 'done', outcome: 'succeeded' });
      const clone = (await api.get(`/v1/clones/${m.cloneId}`)).body;
      expect(clone).toMatchObject({ binding: 'active', metastate: 'operational', machine: ms[i]!.id });
      expect(await debugfsCat(join(dir, clone.path), '/etc/hostname')).toBe(`web-${i + 1}\n`);
      const machine = (await api.get(`/v1/machines/${ms[i]!.id}`)).body;
      expect(machine).toMatchObject({ clone: clone.id, state: 'ready' });
      expect(machine.reservation).toBeUndefined();
    }
    // Every step was an operation of its own, with the deployment's as its parent.
    const ops = (await api.get('/v1/operations?limit=100')).body.items.filter((o: any) => o.parent === op.id);
    expect(ops.map((o: any) => o.kind).sort()).toEqual(
      ['activate', 'assign', 'attach', 'clone'].flatMap((k) => [k, k, k]).sort(),
    );
    expect(op.result.members).toHaveLength(3);
    expect(op.progress).toBe(1);

    // Deleting tears every member down and frees the machines.
    const del = await api.del(`/v1/deployments/${d.id}`);
    expect(del.status, JSON.stringify(del.body)).toBe(202);
    const deleted = await api.wait(del.body.operation, 180_000);
    expect(deleted.status, JSON.stringify(deleted)).toBe('succeeded');
    expect((await api.get(`/v1/deployments/${d.id}`)).status).toBe(404);
    for (const m of d.members) {
      expect((await api.get(`/v1/clones/${m.cloneId}`)).body.status ?? 'gone').not.toBe('ready');
      const machine = (await api.get(`/v1/machines/${m.machine}`)).body;
      expect(machine.clone).toBeUndefined();
      expect(machine.state).toBe('ready');
    }
  }, 300_000);

  it('plans a dry run by selector without reserving anything, and refuses what cannot be met with nothing reserved', async () => {
    const { tag, machines: ms } = await machines(2);
    const plan = await deploy({
      count: 2,
      selector: { tags: [tag] },
      variables: { hostname: 'h-${machine.name}' },
      dryRun: true,
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    // Picked in name order.
    const byName = [...ms].sort((a, b) => a.name.localeCompare(b.name));
    expect(plan.body.plan).toEqual(
      byName.map((m, i) => ({
        index: i + 1,
        machine: m.name,
        clone: `${master.name}-${i + 1}`,
        variables: { hostname: `h-${m.name}` },
        repository: expect.any(String),
        method: 'auto',
      })),
    );
    const tooMany = await deploy({ count: 3, selector: { tags: [tag] }, variables: { hostname: 'x' } });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error).toMatchObject({ code: 'not_enough_machines', wanted: 3, free: 2, matched: 2 });
    for (const m of ms) expect((await api.get(`/v1/machines/${m.id}`)).body.state ?? 'ready').toBe('ready');

    const typo = await deploy({ count: 1, selector: { tags: [tag] }, variables: { hostname: 'web-${indx}' } });
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toContain('${indx}');
    const missing = await deploy({ count: 1, selector: { tags: [tag] } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('${hostname}');
    const unknown = await deploy({ count: 1, selector: { tags: [tag] }, variables: { hostname: 'x' }, colour: 'red' });
    expect(unknown.status).toBe(400);
    // A variable nothing uses is refused by name, up front; one that only builds the clone name stays out of the clones.
    const unused = await deploy({ count: 1, selector: { tags: [tag] }, variables: { hostname: 'x', ntp: 'y' } });
    expect(unused.status, JSON.stringify(unused.body)).toBe(400);
    expect(unused.body.error).toMatchObject({ code: 'unknown_variable', unknown: ['ntp'], expected: ['hostname'] });
    expect(unused.body.error.message).toContain(`body.variables.ntp: the template of master ${master.name}@1`);
    const helper = await deploy({
      count: 1,
      selector: { tags: [tag] },
      name: '${site}-${index}',
      variables: { site: 'east', hostname: '${site}-${index}' },
      dryRun: true,
    });
    expect(helper.status, JSON.stringify(helper.body)).toBe(200);
    expect(helper.body.plan[0]).toMatchObject({ clone: 'east-1', variables: { hostname: 'east-1' } });
    expect(helper.body.plan[0].variables).not.toHaveProperty('site');
    for (const m of ms) expect((await api.get(`/v1/machines/${m.id}`)).body.state ?? 'ready').toBe('ready');
    expect(pool).toBeDefined();
  }, 120_000);

  it('never gives one machine to two deployments racing for the same pool', async () => {
    const { tag } = await machines(6);
    const body = (n: number) => ({
      count: 3,
      selector: { tags: [tag] },
      name: `race${n}-\${index}-${unique('r')}`,
      variables: { hostname: 'r-${index}' },
      activate: false,
    });
    const [a, b, c] = await Promise.all([deploy(body(1)), deploy(body(2)), deploy(body(3))]);
    const accepted = [a, b, c].filter((r) => r.status === 202);
    expect(accepted, JSON.stringify([a.body, b.body, c.body])).toHaveLength(2);
    expect([a, b, c].find((r) => r.status !== 202)!.body.error.code).toBe('not_enough_machines');
    const members = [];
    for (const r of accepted) {
      const { op, d } = await finished(r);
      expect(op.status, JSON.stringify(op)).toBe('succeeded');
      members.push(...d.members.map((m: any) => m.machine));
      await api.wait((await api.del(`/v1/deployments/${d.id}`)).body.operation, 180_000);
    }
    expect(new Set(members).size).toBe(6);
  }, 300_000);

  it('answers a repeated clientToken with the same deployment, and the same token with another body with 409', async () => {
    const { tag } = await machines(1);
    const body = {
      count: 1,
      selector: { tags: [tag] },
      variables: { hostname: 't' },
      clientToken: unique('tok'),
      activate: false,
      name: unique('tok'),
    };
    const first = await deploy(body);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const again = await deploy(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, operation: first.body.operation });
    const other = await deploy({ ...body, variables: { hostname: 'u' } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('client_token_reused');
    const { op, d } = await finished(first);
    expect(op.status).toBe('succeeded');
    // While it ran, its machine could not be taken by a plain assign.
    expect(d.members).toHaveLength(1);
    await api.wait((await api.del(`/v1/deployments/${d.id}`)).body.operation, 120_000);
  }, 180_000);

  it('with onFailure continue: the member whose boot fails is torn down and its machine quarantined until released; the others stay', async () => {
    const { machines: ms } = await machines(3, { 1: { failBoot: true } });
    const r = await deploy({
      machines: ms.map((m) => m.id),
      name: `cont-\${index}-${unique('c')}`,
      variables: { hostname: 'c-${index}' },
      failurePolicy: { onFailure: 'continue' },
    });
    const { op, d } = await finished(r);
    expect(op.status).toBe('failed');
    expect(op.error.code).toBe('members_failed');
    expect(op.error.message).toContain('1 of 3 members failed (succeeded 2, skipped 0, rolled back 0)');
    expect(d.summary).toMatchObject({ succeeded: 2, failed: 1 });
    const bad = d.members[1];
    expect(bad).toMatchObject({ outcome: 'failed', error: { step: 'activate', code: 'boot_failed' } });
    expect((await api.get(`/v1/clones/${bad.cloneId}`)).body.status ?? 'gone').not.toBe('ready');
    const quarantined = (await api.get(`/v1/machines/${ms[1]!.id}`)).body;
    expect(quarantined).toMatchObject({ state: 'quarantined', quarantine: { deployment: d.id, member: 2 } });
    expect(quarantined.clone).toBeUndefined();

    // A quarantined machine takes nothing until it is released.
    const refused = await deploy({ machines: [ms[1]!.id], variables: { hostname: 'q' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('machine_quarantined');
    const released = await api.post(`/v1/machines/${ms[1]!.id}/release`);
    expect(released.status).toBe(200);
    expect(released.body.state).toBe('ready');
    expect((await api.post(`/v1/machines/${ms[1]!.id}/release`)).status).toBe(409);

    expect((await api.del(`/v1/deployments/${d.id}`)).status).toBe(202);
  }, 300_000);

  it('with onFailure rollback: a failure undoes the members that succeeded, and nothing of the deployment is left', async () => {
    const { machines: ms } = await machines(2, { 0: { failBoot: true } });
    const r = await deploy({
      machines: ms.map((m) => m.id),
      name: `rb-\${index}-${unique('b')}`,
      variables: { hostname: 'b-${index}' },
      failurePolicy: { onFailure: 'rollback' },
    });
    const { op, d } = await finished(r);
    expect(op.status).toBe('failed');
    expect(d.status).toBe('rolled_back');
    expect(d.members.map((m: any) => m.outcome)).toEqual(['failed', 'rolled_back']);
    for (const m of d.members)
      expect((await api.get(`/v1/clones/${m.cloneId}`)).body.status ?? 'gone').not.toBe('ready');
    expect((await api.get(`/v1/machines/${ms[1]!.id}`)).body).toMatchObject({ state: 'ready' });
    expect((await api.get(`/v1/machines/${ms[0]!.id}`)).body.state).toBe('quarantined');
  }, 300_000);

  it('keeps a reserved machine from a plain assign, and refuses to delete a running deployment', async () => {
    const { machines: ms } = await machines(1, { 0: { bootSeconds: 4 } });
    const r = await deploy({ machines: [ms[0]!.id], variables: { hostname: 'slow' }, name: unique('slow') });
    expect(r.status).toBe(202);
    const other = await api.run('/v1/clones', { master: master.name, name: unique('other') });
    const assign = await api.post(`/v1/clones/${other.resource.id}/assign`, { machine: ms[0]!.id });
    expect(assign.status).toBe(409);
    expect(assign.body.error.code).toMatch(/machine_reserved|machine_taken/);
    const del = await api.del(`/v1/deployments/${r.body.id}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('deployment_running');
    const { op } = await finished(r);
    expect(op.status).toBe('succeeded');
  }, 180_000);
});
