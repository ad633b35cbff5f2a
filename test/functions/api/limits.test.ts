/** Input past a limit is a 4xx that says which limit, never a 500: depth, lengths, cursors, record size. */
import { describe, expect, it } from 'vitest';
import { routes } from '../../../functions/app';
import { queryParameters } from '../../../functions/http/validate';
import { Api } from '../../support/api';
import { makeClone, makeMachine, makeMaster, makeRepository, unique } from '../../support/fixtures';

const api = Api.admin();
const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

async function raw(method: string, path: string, body: string) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('limits of the input', () => {
  it('refuses a body nested deeper than 64 levels with 400 before parsing it', async () => {
    for (const body of ['['.repeat(200_000), `{"settings":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}`]) {
      const r = await raw('POST', '/v1/machines', body);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('deeper than 64 levels');
      expect(r.body.error.problems).toEqual([expect.stringMatching(/^body: /)]);
    }
  });

  it('refuses settings and credentials that no record can keep, naming the field', async () => {
    const base = { name: unique('m'), site: 'local', kind: 'sim' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ settings: nest(20) }, /^body\.settings(\.a)+: nests deeper than 16 levels/],
      [{ settings: { '': 1 } }, /^body\.settings: has a member with an empty name/],
      [{ settings: { big: 1e300 } }, /^body\.settings\.big: is 1e\+300/],
      [{ settings: { list: [1, 2 ** 60] } }, /^body\.settings\.list\.1: /],
      [{ settings: { tiny: 1e-200 } }, /^body\.settings\.tiny: .*closer to 0/],
      [{ settings: { blob: 'x'.repeat(100_000) } }, /^body\.settings: takes more than 64 KiB/],
      [{ credentials: { '': 'x' } }, /^body\.credentials\[""\]: /],
      [{ settings: { 'a.b': { '': 1 } } }, /^body\.settings\["a\.b"\]: has a member with an empty name/],
    ];
    for (const [extra, problem] of cases) {
      const r = await api.post('/v1/machines', { ...base, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.problems).toContainEqual(expect.stringMatching(problem));
    }
    expect((await api.get(`/v1/machines/${base.name}`)).status).toBe(404);
    const m = await makeMachine(api, { settings: { ok: 1 } });
    const patched = await api.patch(`/v1/machines/${m.id}`, { settings: { deep: nest(20) } });
    expect(patched.status).toBe(400);
    expect((await api.get(`/v1/machines/${m.id}`)).body.settings).toEqual({ ok: 1 });
  });

  it('refuses a path id or name longer than 200 characters with 400', async () => {
    for (const path of [`/v1/machines/${'m'.repeat(201)}`, `/v1/clones/${'c'.repeat(3000)}/attach`]) {
      const r = await api.call(
        path.endsWith('attach') ? 'POST' : 'GET',
        path,
        path.endsWith('attach') ? {} : undefined,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.problems[0]).toMatch(/^path\.id: is longer than 200 characters/);
    }
    expect((await api.get(`/v1/machines/${'m'.repeat(200)}`)).status).toBe(404);
  });

  const lists = routes
    .filter((r) => r.method === 'get' && queryParameters(r.query).includes('cursor'))
    .map((r) => r.path);

  it('has a paged list route to check', () => {
    expect(lists).toEqual(expect.arrayContaining(['/v1/machines', '/v1/operations', '/v1/audit', '/v1/clones']));
  });

  const key = (o: unknown) => btoa(JSON.stringify(o));
  const garbage = [
    'garbage',
    '%%%',
    'eyJ',
    key([]),
    key({ pk: 1 }),
    key({ pk: 'a', sk: 'b', gsi1pk: 'not-this-list', gsi1sk: 'c' }),
    key({ pk: 'a', sk: 'b', gsi2pk: 'operations#running', gsi2sk: 'c' }),
    'x'.repeat(1999),
  ];

  it.each(lists)('answers a garbage cursor on %s with 400 invalid_cursor saying what to do', async (path) => {
    for (const cursor of garbage) {
      const r = await api.get(`${path}?cursor=${encodeURIComponent(cursor)}`);
      expect(r.status, `${cursor}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.code).toBe('invalid_cursor');
      expect(r.body.error.message).toContain('drop it to start from the first page');
      expect(r.body.error.problems).toEqual([expect.stringMatching(/^query\.cursor: /)]);
    }
  });

  it('still pages with the cursors it hands out', async () => {
    await makeMachine(api);
    await makeMachine(api);
    const first = await api.get('/v1/machines?limit=1');
    expect(first.body.cursor).toBeDefined();
    const next = await api.get(`/v1/machines?limit=1&cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(next.status).toBe(200);
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('hands out at most 1024 parts of at most 5 GiB for an upload of up to 5 TiB, and refuses more', async () => {
    const { repo } = await makeRepository(api);
    const started = Date.now();
    const r = await api.post('/v1/uploads', { name: unique('huge'), repository: repo.name, sizeBytes: 5 * 1024 ** 4 });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(201);
    expect(r.body.parts).toHaveLength(1024);
    expect(r.body.partBytes).toBe(5 * 1024 ** 3);
    expect(Date.now() - started).toBeLessThan(20_000);
    const more = await api.post('/v1/uploads', {
      name: unique('huge'),
      repository: repo.name,
      sizeBytes: 16 * 1024 ** 4,
    });
    expect(more.status).toBe(400);
    expect(more.body.error.problems[0]).toMatch(/^body\.sizeBytes: at most 5 TiB/);
  });

  it("refuses a customization whose agent's report would pass a workflow's 256 KiB with 413, before anything changes", async () => {
    const { master } = await makeMaster(api);
    const clone = await makeClone(api, master.id);
    // 500 items at paths of 4000 characters: the report of their changes is about 2 MiB.
    const items = Array.from({ length: 500 }, (_, i) => ({
      type: 'file',
      path: `/etc/${String(i).padStart(4, '0')}${'p'.repeat(3996)}`,
      content: 'x',
    }));
    const r = await api.post(`/v1/clones/${clone.id}/customize`, { items, variables: { hostname: 'h' } });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(413);
    expect(r.body.error.code).toBe('customization_too_large');
    expect(r.body.error.message).toContain('"to"');
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toEqual(clone);
  });

  it('refuses a customization whose commit would push the clone record past 400 KiB with 413, before the agent runs', async () => {
    // A template of 340 KiB leaves the clone's record too little room for the changes of 400 more items.
    const template = [1, 2].map((n) => ({ type: 'file', path: `/etc/t${n}`, content: 't'.repeat(170 * 1024) }));
    const { master } = await makeMaster(api, { customization: template });
    const clone = await makeClone(api, master.id);
    const items = Array.from({ length: 400 }, (_, i) => ({ type: 'file', path: `/etc/f${i}`, content: 'x' }));
    const r = await api.post(`/v1/clones/${clone.id}/customize`, { items });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'record_too_large', limit: 400 * 1024 });
    expect(r.body.error.message).toContain('clone record');
    expect((await api.get(`/v1/clones/${clone.id}`)).body).toEqual(clone);
    // The same items in stages that fit are accepted: the limit is on what the record keeps, not on the request.
    const staged = await api.run(`/v1/clones/${clone.id}/customize`, { items: items.slice(0, 50) });
    expect(staged.status, JSON.stringify(staged).slice(0, 300)).toBe('succeeded');
  });

  it('refuses a record over 400 KiB with 413 before anything is written or started', async () => {
    const { repo } = await makeRepository(api);
    const big = (n: number) => ({ type: 'file', path: `/etc/big${n}`, content: 'x'.repeat(250 * 1024) });
    const name = unique('big');
    const r = await api.post('/v1/masters', {
      name,
      repository: repo.name,
      path: 'masters/base.img',
      customization: [big(1), big(2)],
    });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(413);
    expect(r.body.error.code).toBe('record_too_large');
    expect(r.body.error.message).toContain('customization');
    expect((await api.get(`/v1/masters/${name}`)).status).toBe(404);
    const latest = (await api.get('/v1/operations?limit=5')).body.items;
    expect(latest.filter((o: any) => o.resource.name === name)).toEqual([]);

    const { master } = await makeMaster(api);
    const patched = await api.patch(`/v1/masters/${master.id}`, { customization: [big(1), big(2)] });
    expect(patched.status).toBe(413);
    expect((await api.get(`/v1/masters/${master.id}`)).body.customization).toEqual(master.customization);
  });
});
