/** Per-suite resources with unique names: a repository directory, a master in it, machines. */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, inject } from 'vitest';
import type { Api } from './api';
import { baseFiles, hostnameItems, makeExt4 } from './images';

export const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

export { hostnameItems } from './images';

/**
 * Where repository directories are made: `home` (a stack the caller started itself, as the benchmarks
 * do, outside vitest), else the home of the stack the test run shares, which the global teardown removes.
 */
const reposUnder = (home?: string) => join(home ?? inject('stack').home, 'repos');

export async function makeRepository(api: Api, opts: { home?: string } = {}) {
  await mkdir(reposUnder(opts.home), { recursive: true });
  const dir = await mkdtemp(join(reposUnder(opts.home), 'repo-'));
  const { status, body } = await api.createRepository({
    name: unique('repo'),
    site: 'local',
    kind: 'file',
    path: dir,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return { dir, repo: body };
}

export async function makeMaster(
  api: Api,
  opts: { customization?: unknown[]; requirements?: unknown; files?: Record<string, string>; home?: string } = {},
) {
  const { dir, repo } = await makeRepository(api, { home: opts.home });
  await makeExt4(join(dir, 'masters/base.img'), opts.files ?? baseFiles);
  const name = unique('master');
  const op = await api.run('/v1/masters', {
    name,
    repository: repo.name,
    path: 'masters/base.img',
    customization: opts.customization ?? hostnameItems,
    requirements: opts.requirements ?? {},
  });
  expect(op.status, JSON.stringify(op)).toBe('succeeded');
  const master = (await api.get(`/v1/masters/${name}`)).body;
  return { dir, repo, master };
}

export async function makeMachine(api: Api, extra: Record<string, unknown> = {}) {
  const { status, body } = await api.post('/v1/machines', {
    name: unique('m'),
    site: 'local',
    kind: 'sim',
    cpus: 2,
    memoryMiB: 2048,
    ...extra,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body;
}

/** A clone of `master`, customized with `hostname` for `machine` and active on it. */
export async function activeOn(api: Api, master: string, machine: { id: string }, hostname: string) {
  const clone = await makeClone(api, master);
  const steps: [string, unknown][] = [
    ['assign', { machine: machine.id, customization: { variables: { hostname } } }],
    ['attach', {}],
    ['activate', {}],
  ];
  for (const [event, body] of steps) {
    const op = await api.run(`/v1/clones/${clone.id}/${event}`, body);
    expect(op.status, JSON.stringify(op)).toBe('succeeded');
  }
  return (await api.get(`/v1/clones/${clone.id}`)).body;
}

/** A migration accepted and waited for: its operation and its record. */
export async function migrate(api: Api, body: Record<string, unknown>) {
  const r = await api.post('/v1/migrations', body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const op = await api.wait(r.body.operation, 120_000);
  return { op, m: (await api.get(`/v1/migrations/${r.body.id}`)).body };
}

export async function makeClone(api: Api, master: string) {
  const name = unique('clone');
  const op = await api.run('/v1/clones', { master, name });
  expect(op.status, JSON.stringify(op)).toBe('succeeded');
  return (await api.get(`/v1/clones/${name}`)).body;
}

/**
 * POST /v1/discoveries, waiting its turn: a site runs one discovery at a time, and suites running
 * at once discover the same site. A `409 discovery_running` waits for the running one and retries.
 */
export async function postDiscovery(api: Api, body: Record<string, unknown>) {
  for (let attempt = 0; ; attempt++) {
    const r = await api.post('/v1/discoveries', body);
    if (r.status !== 409 || r.body?.error?.code !== 'discovery_running' || attempt >= 10) return r;
    await api.wait(r.body.error.operation, 180_000);
  }
}
