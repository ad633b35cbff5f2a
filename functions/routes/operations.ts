/** Routes for operations, the audit trail, health and the API description. */
import { z } from 'zod';
import { health } from '../actions/health';
import { listOperations, operationListQuery } from '../actions/lists';
import { getOperation, reportProgress } from '../actions/operations';
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { type RouteSpec, route } from '../http/route';
import { operationQuery } from '../operations/schema';

export const operationRoutes: RouteSpec[] = [
  route({
    method: 'get',
    path: '/v1/health',
    operationId: 'getHealth',
    response: out.health,
    tag: 'system',
    summary: 'Health of the parts and of each site agent',
    access: 'public',
    handler: (c) => health(c.deps),
  }),
  route({
    method: 'get',
    path: '/v1/operations',
    operationId: 'listOperations',
    response: out.operationList,
    tag: 'operations',
    summary: 'List operations, newest first, filtered by resource, kind, status',
    access: 'viewer',
    query: operationListQuery,
    handler: (c) => listOperations(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/operations/{id}',
    operationId: 'getOperation',
    response: out.operation,
    tag: 'operations',
    summary: 'Read an operation: status, progress, steps, timing, result or error; ?wait= answers once it ended',
    access: 'viewer',
    query: operationQuery,
    handler: (c) => getOperation(c.deps, c.params.id!, c.query.wait),
  }),
  route({
    method: 'post',
    path: '/v1/operations/{id}/progress',
    operationId: 'reportOperationProgress',
    response: out.progressReported,
    tag: 'agents',
    summary: 'The agent reports progress of an operation',
    access: 'agent',
    body: z
      .object({
        progress: z.number().min(0).max(1),
        step: z.string().max(100).optional(),
        message: z.string().max(500).optional(),
      })
      .strict(),
    handler: (c) => reportProgress(c.deps, c.principal, c.params.id!, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/audit',
    operationId: 'listAudit',
    response: out.auditList,
    tag: 'audit',
    summary: 'Who did what to which resource, when, with what outcome (newest first)',
    access: 'viewer',
    query: s.page,
    handler: (c) => c.deps.audit.list(c.query),
  }),
];
