/** Lists filter by the fields a caller looks for, page honestly, and agree with reads of one record. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, unique } from '../../support/fixtures';

const api = Api.admin();

/** Every item of a list, page by page with `limit`; also how many pages it took. */
async function all(path: string, limit: number) {
  const items: any[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...r.body.items);
    cursor = r.body.cursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id).sort();

describe('machine list filters', () => {
  const tag = unique('pool');
  let tagged: any[];
  beforeAll(async () => {
    tagged = [await makeMachine(api, { tags: [tag] }), await makeMachine(api, { tags: [tag, 'x'] })];
    await makeMachine(api, { tags: ['other'] });
  });

  it('lists only the machines with a tag, one per page, with a cursor as long as more match', async () => {
    const { items, pages } = await all(`/v1/machines?tag=${tag}`, 1);
    expect(ids(items)).toEqual(ids(tagged));
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  it('combines filters: site, kind, state and tag', async () => {
    const both = await all(`/v1/machines?tag=${tag}&site=local&kind=sim&state=ready`, 5);
    expect(ids(both.items)).toEqual(ids(tagged));
    expect((await api.get(`/v1/machines?tag=${tag}&kind=qemu`)).body.items).toEqual([]);
    expect((await api.get(`/v1/machines?tag=${tag}&state=quarantined`)).body.items).toEqual([]);
  });

  it('refuses a filter value that is not one of the field, and a site that does not exist', async () => {
    const kind = await api.get('/v1/machines?kind=vmware');
    expect(kind.status).toBe(400);
    expect(kind.body.error.problems[0]).toMatch(/^query\.kind: /);
    const site = await api.get('/v1/machines?site=nowhere');
    expect(site.status).toBe(400);
    expect(site.body.error.problems[0]).toMatch(/^query\.site: no site with id or name "nowhere"/);
  });
});

describe('clone list filters and ended clones', () => {
  let master: any;
  let kept: any;
  let gone: any;
  let machine: any;
  beforeAll(async () => {
    ({ master } = await makeMaster(api));
    kept = await makeClone(api, master.id);
    gone = await makeClone(api, master.id);
    machine = await makeMachine(api);
    const assign = await api.run(`/v1/clones/${kept.id}/assign`, {
      machine: machine.id,
      customization: { variables: { hostname: 'h1' } },
    });
    expect(assign.status, JSON.stringify(assign)).toBe('succeeded');
    expect((await api.run(`/v1/clones/${gone.id}/destroy`)).status).toBe('succeeded');
  });

  it('hides destroyed clones unless asked for, and reads them by id', async () => {
    expect(ids((await all(`/v1/clones?master=${master.id}`, 1)).items)).toEqual([kept.id]);
    const destroyed = await all(`/v1/clones?master=${master.id}&status=destroyed`, 1);
    expect(ids(destroyed.items)).toEqual([gone.id]);
    expect(ids((await all(`/v1/clones?master=${master.name}&status=all`, 1)).items)).toEqual(ids([kept, gone]));
    const byId = await api.get(`/v1/clones/${gone.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.status).toBe('destroyed');
    const byName = await api.get(`/v1/clones/${gone.name}`);
    expect(byName.status).toBe(404);
    expect(byName.body.error.message).toContain('read it by its id');
  });

  it('filters clones by binding, machine and site', async () => {
    expect(ids((await api.get(`/v1/clones?machine=${machine.name}`)).body.items)).toEqual([kept.id]);
    expect(ids((await api.get(`/v1/clones?master=${master.id}&binding=assigned`)).body.items)).toEqual([kept.id]);
    expect((await api.get(`/v1/clones?master=${master.id}&binding=active`)).body.items).toEqual([]);
    const site = await all(`/v1/clones?site=local&binding=assigned`, 50);
    expect(ids(site.items)).toContain(kept.id);
    expect(site.items.every((c: any) => c.binding === 'assigned' && c.status !== 'destroyed')).toBe(true);
  });

  it('keeps the cursor of a filtered list to that list', async () => {
    const first = await api.get(`/v1/clones?master=${master.id}&status=all&limit=1`);
    expect(first.body.cursor).toBeDefined();
    // The master's clones are read from their own index: its cursor means nothing to the whole list.
    const other = await api.get(`/v1/clones?cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('invalid_cursor');
  });

  it('filters operations by resource, kind and status, page by page', async () => {
    const { items } = await all(`/v1/operations?resource=${gone.id}`, 1);
    expect(items.map((o: any) => o.kind).sort()).toEqual(['clone', 'destroy']);
    const byName = await all(`/v1/operations?resource=${kept.name}&kind=assign`, 1);
    expect(byName.items).toHaveLength(1);
    expect(byName.items[0].resource.id).toBe(kept.id);
    const ok = await api.get(`/v1/operations?resource=${kept.id}&status=succeeded`);
    expect(ok.body.items).toHaveLength(2);
    const running = await api.get('/v1/operations?status=running&limit=50');
    expect(running.status).toBe(200);
    expect(running.body.items.every((o: any) => o.status === 'running')).toBe(true);
    const bad = await api.get('/v1/operations?kind=teleport');
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems[0]).toMatch(/^query\.kind: /);
  });
});
