import { events, type LifecycleEvent, transitions } from '../../statemachines/lifecycle';
import { createCloneAction } from '../actions/clones';
import { cloneListQuery, getClone, listClones } from '../actions/lists';
import { deleteMaster, getMaster, importMasterAction, patchMasterAction } from '../actions/masters';
import { createUploadAction } from '../actions/uploads';
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { InvalidInputError } from '../errors';
import { MAX_CUSTOMIZATION_BODY_BYTES } from '../events/customization';
import { eventEntries } from '../events/index';
import { cloneEvent } from '../events/request';
import { mergePatchBody } from '../http/merge-patch';
import { type RouteSpec, route } from '../http/route';

const list = <T>(items: T[], cursor?: string) => ({ items, ...(cursor ? { cursor } : {}) });

/** `POST /v1/clones/{id}/<event>`: one route per row of the lifecycle table, with its entry's body schema. */
function eventRoute(event: LifecycleEvent, doc: string): RouteSpec {
  return route({
    method: 'post',
    path: `/v1/clones/{id}/${event}`,
    operationId: `${event}Clone`,
    tag: 'clones',
    access: 'operator',
    status: 202,
    summary: `${event[0]!.toUpperCase()}${event.slice(1)}: ${doc}`,
    body: eventEntries[event].body,
    response: out.accepted,
    // assign and customize carry customization items, which are kept in S3, not in the record.
    maxBodyBytes: MAX_CUSTOMIZATION_BODY_BYTES,
    handler: (c) => cloneEvent(c.deps, c.principal, c.params.id!, event, c.body),
  });
}

export const imageRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/masters',
    operationId: 'importMaster',
    response: out.accepted,
    tag: 'masters',
    summary: 'Import a master image that sits in a repository',
    access: 'operator',
    status: 202,
    body: s.importMaster,
    handler: (c) => importMasterAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/masters',
    operationId: 'listMasters',
    response: out.masterList,
    tag: 'masters',
    summary: 'List masters (every version)',
    access: 'viewer',
    query: s.page,
    handler: async (c) => {
      const p = await c.deps.masters.list(c.query);
      return list(p.items, p.cursor);
    },
  }),
  route({
    method: 'get',
    path: '/v1/masters/{id}',
    operationId: 'getMaster',
    response: out.masterDetail,
    tag: 'masters',
    summary: 'Read a master, with its clones (`name` = newest version, `name@N` = version N)',
    access: 'viewer',
    handler: (c) => getMaster(c.deps, c.params.id!),
  }),
  route({
    method: 'patch',
    path: '/v1/masters/{id}',
    operationId: 'updateMaster',
    response: out.masterDetail,
    tag: 'masters',
    summary:
      'Edit profile, requirements and customization items: a JSON merge patch (RFC 7396); the items are one list, replaced whole',
    access: 'operator',
    body: mergePatchBody,
    mergePatchOf: s.masterFields,
    handler: (c) => patchMasterAction(c.deps, c.params.id!, c.body),
  }),
  route({
    method: 'delete',
    path: '/v1/masters/{id}',
    operationId: 'deleteMaster',
    response: out.deleted,
    tag: 'masters',
    summary: 'Delete a master that has no live clones or child versions',
    access: 'operator',
    handler: (c) => deleteMaster(c.deps, c.params.id!),
  }),

  route({
    method: 'post',
    path: '/v1/uploads',
    operationId: 'createUpload',
    response: out.upload,
    tag: 'masters',
    summary:
      'Upload a master: presigned PUT (or multipart parts over 100 MiB) under uploads/masters/; the import starts when the object is complete',
    access: 'operator',
    status: 201,
    body: s.createUpload,
    handler: (c) => createUploadAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'post',
    path: '/v1/clones',
    operationId: 'createClone',
    response: out.accepted,
    tag: 'clones',
    summary: 'Clone a master',
    access: 'operator',
    status: 202,
    body: s.createClone,
    handler: (c) => createCloneAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/clones',
    operationId: 'listClones',
    response: out.cloneList,
    tag: 'clones',
    summary: 'List clones (live ones unless a status is asked for), filtered by status, binding, master, machine, site',
    access: 'viewer',
    query: cloneListQuery,
    handler: (c) => listClones(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/clones/{id}',
    operationId: 'getClone',
    response: out.clone,
    tag: 'clones',
    summary: 'Read a clone',
    access: 'viewer',
    handler: (c) => getClone(c.deps, c.params.id!),
  }),
  route({
    method: 'delete',
    path: '/v1/clones/{id}',
    operationId: 'deleteClone',
    response: out.accepted,
    tag: 'clones',
    summary: 'Destroy a clone (same as the destroy event)',
    access: 'operator',
    status: 202,
    handler: (c) => cloneEvent(c.deps, c.principal, c.params.id!, 'destroy', {}),
  }),
  ...transitions.map((t) => eventRoute(t.event, t.doc)),
  // A name that is no event: a 400 listing the events (the CLI and scripts post any name here).
  route({
    method: 'post',
    path: '/v1/clones/{id}/{event}',
    operationId: 'unknownCloneEvent',
    tag: 'clones',
    access: 'operator',
    undocumented: true,
    summary: 'Any other name is not a lifecycle event',
    response: out.accepted,
    handler: async (c) => {
      throw new InvalidInputError(`unknown event "${c.params.event}"; events are: ${events.join(', ')}`);
    },
  }),
];
