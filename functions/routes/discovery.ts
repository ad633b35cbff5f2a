/** Routes for discovery: runs, the conflict queue, a site's discovery settings, and adopting what was found. */

import { z } from 'zod';
import {
  adoptMachine,
  adoptMachineAction,
  getConflict,
  listConflicts,
  listConflictsAction,
  resolveConflict,
  resolveConflictAction,
} from '../discovery/resolve';
import {
  putSiteDiscovery,
  putSiteDiscoveryAction,
  runSiteDiscoveryAction,
  siteDiscoveryView,
} from '../discovery/schedule';
import { createDiscovery, createDiscoveryAction } from '../discovery/start';
import { discoveryView, listDiscoveries } from '../discovery/views';
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { type RouteSpec, route } from '../http/route';

export const discoveryRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/discoveries',
    operationId: 'createDiscovery',
    response: out.discoveryAccepted,
    tag: 'discovery',
    summary:
      "Ask a site's seeds (BMCs, Redfish services, hypervisors, repositories) what they hold and reconcile it with the records; a dry run is an operation too, whose result is the diff and which changes nothing",
    access: 'operator',
    status: 202,
    body: createDiscovery,
    handler: (c) => createDiscoveryAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/discoveries',
    operationId: 'listDiscoveries',
    response: out.discoveryList,
    tag: 'discovery',
    summary: 'List discoveries, newest first',
    access: 'viewer',
    query: s.page,
    handler: (c) => listDiscoveries(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/discoveries/{id}',
    operationId: 'getDiscovery',
    response: out.discovery,
    tag: 'discovery',
    summary:
      'Read a discovery: its seeds, its status and, once it ended, its diff (new, matched, changed, missing, conflicts, orphans, ghosts, drift)',
    access: 'viewer',
    handler: (c) => discoveryView(c.deps, c.params.id!),
  }),
  route({
    method: 'get',
    path: '/v1/conflicts',
    operationId: 'listConflicts',
    response: out.conflictList,
    tag: 'discovery',
    summary:
      'The conflict queue: each observation reconciliation could not decide, with its candidates, their scores and evidence, and the reason',
    access: 'viewer',
    query: listConflicts,
    handler: (c) => listConflictsAction(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/conflicts/{id}',
    operationId: 'getConflict',
    response: out.conflict,
    tag: 'discovery',
    summary: 'Read a conflict',
    access: 'viewer',
    handler: (c) => getConflict(c.deps, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/conflicts/{id}/resolve',
    operationId: 'resolveConflict',
    response: out.conflict,
    tag: 'discovery',
    summary:
      'Resolve a conflict: merge it into a record, replace a record with it, make it a new machine, or ignore it; idempotent and audited',
    access: 'operator',
    body: resolveConflict,
    handler: (c) => resolveConflictAction(c.deps, c.principal, c.params.id!, c.body),
  }),
  route({
    method: 'post',
    path: '/v1/machines/{id}/adopt',
    operationId: 'adoptMachine',
    response: out.machine,
    tag: 'machines',
    summary: 'Adopt a machine a discovery found: it becomes ready, and may be deployed to from now on',
    access: 'operator',
    body: adoptMachine,
    handler: (c) => adoptMachineAction(c.deps, c.principal, c.params.id!, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/sites/{id}/discovery',
    operationId: 'getSiteDiscovery',
    response: out.siteDiscovery,
    tag: 'discovery',
    summary: "A site's discovery: its seeds (credentials never shown), schedule and evidence settings",
    access: 'viewer',
    handler: async (c) => siteDiscoveryView(await c.deps.sites.require(c.params.id!)),
  }),
  route({
    method: 'put',
    path: '/v1/sites/{id}/discovery',
    operationId: 'putSiteDiscovery',
    response: out.siteDiscovery,
    tag: 'discovery',
    summary:
      "Set a site's discovery: the seeds (their credentials go to the secret store), how often it runs (everyMinutes; 0: only when asked) and the evidence settings",
    access: 'admin',
    body: putSiteDiscovery,
    handler: (c) => putSiteDiscoveryAction(c.deps, c.params.id!, c.body),
  }),
  route({
    method: 'post',
    path: '/v1/sites/{id}/discovery/run',
    operationId: 'runSiteDiscovery',
    response: out.discoveryAccepted,
    tag: 'discovery',
    summary: "Run a site's discovery now, with its stored seeds",
    access: 'operator',
    status: 202,
    body: z
      .object({ dryRun: z.boolean().default(false) })
      .strict()
      .default({ dryRun: false }),
    handler: (c) => runSiteDiscoveryAction(c.deps, c.principal, c.params.id!, c.body.dryRun),
  }),
];
