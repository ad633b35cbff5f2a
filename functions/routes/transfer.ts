/** Routes for exporting a site's masters (and their clones and machines) as a bundle, and importing one. */
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { type RouteSpec, route } from '../http/route';
import { createExportAction } from '../transfer/export';
import { createImportAction } from '../transfer/import';
import { createExport, createImport } from '../transfer/schemas';
import { getExport, getImport, listExports, listImports } from '../transfer/views';

export const transferRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/exports',
    operationId: 'createExport',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      'Export masters with their lineage (and optionally their clones, customization documents and machines, never credentials) as a bundle: manifest.json with per-part sha256, and the images, in S3 or a folder of a file repository',
    access: 'operator',
    status: 202,
    body: createExport,
    handler: (c) => createExportAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/exports',
    operationId: 'listExports',
    response: out.transferList,
    tag: 'scenarios',
    summary: 'List exports',
    access: 'viewer',
    query: s.page,
    handler: (c) => listExports(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/exports/{id}',
    operationId: 'getExport',
    response: out.transfer,
    tag: 'scenarios',
    summary: 'Read an export: its masters, where its bundle is, its status',
    access: 'viewer',
    handler: (c) => getExport(c.deps, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/imports',
    operationId: 'createImport',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      "Import a bundle onto a site: every object's hash checked before anything is written, what the site has skipped, name conflicts skipped, renamed or refused; a dry run's result is the plan",
    access: 'operator',
    status: 202,
    body: createImport,
    handler: (c) => createImportAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/imports',
    operationId: 'listImports',
    response: out.transferList,
    tag: 'scenarios',
    summary: 'List imports',
    access: 'viewer',
    query: s.page,
    handler: (c) => listImports(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/imports/{id}',
    operationId: 'getImport',
    response: out.transfer,
    tag: 'scenarios',
    summary:
      'Read an import: its plan (each object created, skipped or renamed; conflicts; missing rebindings) and status',
    access: 'viewer',
    handler: (c) => getImport(c.deps, c.params.id!),
  }),
];
