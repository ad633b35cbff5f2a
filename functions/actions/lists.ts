/**
 * The filtered lists: clones, machines and operations, each by a few fields, one page at a time. A
 * filter that has an index of its own reads it (a master's clones, the running operations); the
 * others are kept while paging (store/db.ts queryWhere), so a page with no cursor means that nothing
 * else matches, and a short page with a cursor means: read on.
 */
import { z } from 'zod';
import { machineKinds } from '../../statemachines/kinds';
import { bindings } from '../../statemachines/lifecycle';
import type { Deps } from '../deps';
import { clonesOf } from '../deps';
import { page } from '../domain/schemas';
import { InvalidInputError, NotFoundError } from '../errors';
import { operationKinds } from '../operations';
import { stateOf } from '../scenarios/machine-state';
import type { Clone, Machine, MachineState } from '../store/records';
import { cloneView, machineView } from './views';

const ref = (kind: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: `Only those of this ${kind} (its id or name).` });

const pageNote =
  ' A filtered page may hold fewer than `limit` items and still carry a `cursor`: follow it until a page has none.';

/** Live clones are listed by default; the ended ones (captured, destroyed) only when asked for. */
export const LIVE_CLONE_STATUSES: readonly Clone['status'][] = ['creating', 'ready'];
const cloneStatuses = ['creating', 'ready', 'captured', 'destroyed', 'live', 'all'] as const;

export const cloneListQuery = page
  .extend({
    status: z
      .enum(cloneStatuses)
      .default('live')
      .meta({
        description: `Only clones with this status. \`live\` (the default): creating and ready; \`captured\` and \`destroyed\` clones are listed only when asked for (or with \`all\`); they are read by id.${pageNote}`,
      }),
    binding: z
      .enum(Object.keys(bindings) as [keyof typeof bindings, ...(keyof typeof bindings)[]])
      .optional()
      .meta({ description: 'Only clones with this binding.' }),
    master: ref('master (`name` is its newest version, `name@N` version N)'),
    machine: ref('machine (the clones assigned to it)'),
    site: ref('site (the clones in its repositories)'),
  })
  .strict();

export const machineStates = [
  'ready',
  'reserved',
  'quarantined',
  'discovered',
  'missing',
] as const satisfies readonly MachineState[];

export const machineListQuery = page
  .extend({
    site: ref('site'),
    kind: z.enum(machineKinds).optional().meta({ description: 'Only machines of this kind.' }),
    tag: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: `Only machines that carry this tag.${pageNote}` }),
    state: z.enum(machineStates).optional().meta({ description: 'Only machines in this state.' }),
  })
  .strict();

export const operationListQuery = page
  .extend({
    resource: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Only operations on this resource: its id or its name, as the operation names it.' }),
    kind: z
      .enum(operationKinds as [string, ...string[]])
      .optional()
      .meta({ description: 'Only operations of this kind.' }),
    status: z
      .enum(['running', 'succeeded', 'failed', 'aborted'])
      .optional()
      .meta({ description: `Only operations with this status.${pageNote}` }),
  })
  .strict();

/** The record a filter names; one that does not exist is a mistake in the query, not an empty list. */
async function filterRef<T extends { id: string; name: string }>(
  store: { find(ref: string): Promise<T | undefined> },
  kind: string,
  field: string,
  value: string,
): Promise<T> {
  const found = await store.find(value);
  if (found) return found;
  const problem = new NotFoundError(kind, value).message;
  throw new InvalidInputError(`query.${field}: ${problem}`, { problems: [`query.${field}: ${problem}`] });
}

const list = <T>(items: T[], cursor?: string) => ({ items, ...(cursor ? { cursor } : {}) });

export async function listClones(deps: Deps, q: z.infer<typeof cloneListQuery>) {
  const master = q.master ? await filterRef(deps.masters, 'master', 'master', q.master) : undefined;
  const machine = q.machine ? await filterRef(deps.machines, 'machine', 'machine', q.machine) : undefined;
  const site = q.site ? await filterRef(deps.sites, 'site', 'site', q.site) : undefined;
  const repositories = site
    ? new Set((await deps.repositories.listAll()).filter((r) => r.site === site.name).map((r) => r.id))
    : undefined;
  const status = (c: Clone) =>
    q.status === 'all' || (q.status === 'live' ? LIVE_CLONE_STATUSES.includes(c.status) : c.status === q.status);
  const p = await deps.clones.listWhere(
    { limit: q.limit, cursor: q.cursor, ...(master ? { parent: clonesOf(master.id) } : {}) },
    (c) =>
      status(c) &&
      (!q.binding || c.binding === q.binding) &&
      (!machine || c.machine === machine.id) &&
      (!repositories || repositories.has(c.repository)),
  );
  return list(p.items.map(cloneView), p.cursor);
}

/** A clone by id or name; a destroyed or captured one has given its name up, and is read by its id. */
export async function getClone(deps: Deps, ref: string) {
  const clone = await deps.clones.find(ref);
  if (!clone)
    throw new NotFoundError(
      'clone',
      ref,
      'a destroyed or captured clone gives its name up: read it by its id, or list them with GET /v1/clones?status=destroyed (or captured)',
    );
  return cloneView(clone);
}

export async function listMachines(deps: Deps, q: z.infer<typeof machineListQuery>) {
  const site = q.site ? await filterRef(deps.sites, 'site', 'site', q.site) : undefined;
  const p = await deps.machines.listWhere(
    { limit: q.limit, cursor: q.cursor },
    (m: Machine) =>
      (!site || m.site === site.name || m.site === site.id) &&
      (!q.kind || m.kind === q.kind) &&
      (!q.tag || (m.tags ?? []).includes(q.tag)) &&
      (!q.state || stateOf(m) === q.state),
  );
  return list(p.items.map(machineView), p.cursor);
}

export async function listOperations(deps: Deps, q: z.infer<typeof operationListQuery>) {
  const p = await deps.operations.list(
    { limit: q.limit, cursor: q.cursor, running: q.status === 'running' },
    (op) =>
      (!q.status || op.status === q.status) &&
      (!q.kind || op.kind === q.kind) &&
      (!q.resource || op.resource.id === q.resource || op.resource.name === q.resource),
  );
  return list(p.items, p.cursor);
}
