import { events, isEvent } from '../../statemachines/lifecycle';
import { createCloneAction } from '../actions/clones';
import { cloneListQuery, getClone, listClones } from '../actions/lists';
import { deleteMaster, getMaster, importMasterAction, patchMasterAction } from '../actions/masters';
import { createUploadAction } from '../actions/uploads';
import * as s from '../domain/schemas';
import { InvalidInputError } from '../errors';
import { MAX_CUSTOMIZATION_BODY_BYTES } from '../events/customization';
import { cloneEvent } from '../events/request';
import { mergePatchBody } from '../http/merge-patch';
import { type RouteSpec, route } from '../http/route';

const list = <T>(items: T[], cursor?: string) => ({ items, ...(cursor ? { cursor } : {}) });

export const imageRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/masters',
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
    tag: 'masters',
    summary: 'Read a master, with its clones (`name` = newest version, `name@N` = version N)',
    access: 'viewer',
    handler: (c) => getMaster(c.deps, c.params.id!),
  }),
  route({
    method: 'patch',
    path: '/v1/masters/{id}',
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
    tag: 'masters',
    summary: 'Delete a master that has no live clones or child versions',
    access: 'operator',
    handler: (c) => deleteMaster(c.deps, c.params.id!),
  }),

  route({
    method: 'post',
    path: '/v1/uploads',
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
    tag: 'clones',
    summary: 'List clones (live ones unless a status is asked for), filtered by status, binding, master, machine, site',
    access: 'viewer',
    query: cloneListQuery,
    handler: (c) => listClones(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/clones/{id}',
    tag: 'clones',
    summary: 'Read a clone',
    access: 'viewer',
    handler: (c) => getClone(c.deps, c.params.id!),
  }),
  route({
    method: 'delete',
    path: '/v1/clones/{id}',
    tag: 'clones',
    summary: 'Destroy a clone (same as the destroy event)',
    access: 'operator',
    status: 202,
    handler: (c) => cloneEvent(c.deps, c.principal, c.params.id!, 'destroy', {}),
  }),
  route({
    method: 'post',
    path: '/v1/clones/{id}/{event}',
    tag: 'clones',
    access: 'operator',
    status: 202,
    summary: `A lifecycle event: ${events.join(', ')}`,
    // assign and customize carry customization items, which are kept in S3, not in the record.
    maxBodyBytes: MAX_CUSTOMIZATION_BODY_BYTES,
    handler: (c) => {
      const event = c.params.event!;
      if (!isEvent(event)) throw new InvalidInputError(`unknown event "${event}"; events are: ${events.join(', ')}`);
      return cloneEvent(c.deps, c.principal, c.params.id!, event, c.body);
    },
  }),
];
