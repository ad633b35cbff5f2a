/** Routes for tokens, sites, repositories and machines. */
import { z } from 'zod';
import {
  createMachineAction,
  createSiteAction,
  createTokenAction,
  deleteMachine,
  deleteRepository,
  deleteSiteAction,
  revokeToken,
} from '../actions/admin';
import { forgetAgentAction, reportAgentAction } from '../actions/agents';
import { listMachines, machineListQuery } from '../actions/lists';
import { patchMachineAction } from '../actions/machine-patch';
import {
  adoptOrphanAction,
  checkRepositoryAction,
  createRepositoryAction,
  getRepository,
  listOrphans,
  removeOrphanAction,
} from '../actions/repository-check';
import { deleteTemplateSecret, putTemplateSecret } from '../actions/template-secrets';
import { machineView } from '../actions/views';
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { mergePatchBody } from '../http/merge-patch';
import { type RouteSpec, route } from '../http/route';

const list = <T>(items: T[], cursor?: string) => ({ items, ...(cursor ? { cursor } : {}) });

export const inventoryRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/tokens',
    operationId: 'createToken',
    response: out.createdToken,
    tag: 'tokens',
    summary: 'Create a token (shown once)',
    access: 'admin',
    status: 201,
    body: s.createToken,
    handler: (c) => createTokenAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/tokens',
    operationId: 'listTokens',
    response: out.tokenList,
    tag: 'tokens',
    summary: 'List tokens (never their secrets)',
    access: 'admin',
    handler: async (c) => list(await c.deps.tokens.list()),
  }),
  route({
    method: 'delete',
    path: '/v1/tokens/{id}',
    operationId: 'revokeToken',
    response: out.revoked,
    tag: 'tokens',
    summary: 'Revoke a token',
    access: 'admin',
    handler: (c) => revokeToken(c.deps, c.params.id!),
  }),

  route({
    method: 'post',
    path: '/v1/sites',
    operationId: 'createSite',
    response: out.site,
    tag: 'sites',
    summary: 'Create a site and its workflows',
    access: 'admin',
    status: 201,
    body: s.createSite,
    handler: (c) => createSiteAction(c.deps, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/sites',
    operationId: 'listSites',
    response: out.siteList,
    tag: 'sites',
    summary: 'List sites',
    access: 'viewer',
    query: s.page,
    handler: async (c) => {
      const p = await c.deps.sites.list(c.query);
      return list(p.items, p.cursor);
    },
  }),
  route({
    method: 'get',
    path: '/v1/sites/{id}',
    operationId: 'getSite',
    response: out.site,
    tag: 'sites',
    summary: 'Read a site',
    access: 'viewer',
    handler: (c) => c.deps.sites.require(c.params.id!),
  }),
  route({
    method: 'delete',
    path: '/v1/sites/{id}',
    operationId: 'deleteSite',
    response: out.deleted,
    tag: 'sites',
    summary: 'Delete a site that has no repositories or machines, with its workflows',
    access: 'admin',
    handler: (c) => deleteSiteAction(c.deps, c.params.id!),
  }),
  route({
    method: 'put',
    path: '/v1/sites/{id}/agents/{host}',
    operationId: 'reportAgent',
    response: out.agentReported,
    tag: 'agents',
    summary:
      'An agent of the site reports that it is alive, naming its host; its first report creates its host\u2019s lane (activity and workflows)',
    access: 'agent',
    body: z
      .object({
        version: z.string().max(100).optional(),
        /** The machine's own host name (the path's host may be cut from it or chosen). */
        machine: z.string().max(255).optional(),
        startedAt: z.string().max(40).optional(),
        /** Storage tasks the agent runs at once per repository; deployments run as many members at once. */
        slots: z.number().int().min(1).max(1024).optional(),
        hooks: z
          .array(
            z
              .object({
                name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
                on: z.enum(['image', 'machine']),
                doc: z.string().max(500).optional(),
              })
              .strict(),
          )
          .max(100)
          .optional(),
        /** The shared repositories (names or ids) it reaches; absent: all of its site's. */
        repositories: z
          .object({ shared: z.array(z.string().min(1).max(200)).max(500).optional() })
          .strict()
          .optional(),
      })
      .strict(),
    handler: (c) => reportAgentAction(c.deps, c.principal, c.params.id!, c.params.host!, c.body),
  }),
  route({
    method: 'delete',
    path: '/v1/sites/{id}/agents/{host}',
    operationId: 'forgetAgent',
    response: out.agentForgotten,
    tag: 'agents',
    summary: 'Forget the agent of a host taken out of service, with its host\u2019s lane (its activity and workflows)',
    access: 'admin',
    handler: (c) => forgetAgentAction(c.deps, c.params.id!, c.params.host!),
  }),

  route({
    method: 'put',
    path: '/v1/sites/{id}/secrets/{name}',
    operationId: 'putTemplateSecret',
    response: out.templateSecret,
    tag: 'sites',
    summary:
      'Set a template secret of the site: customization items name it ${secret:NAME}; its agent reads it when it applies them (write-only: never answered)',
    access: 'admin',
    body: z
      .object({
        value: z
          .string()
          .min(1)
          .max(64 * 1024),
      })
      .strict(),
    handler: (c) => putTemplateSecret(c.deps, c.params.id!, c.params.name!, c.body.value),
  }),
  route({
    method: 'delete',
    path: '/v1/sites/{id}/secrets/{name}',
    operationId: 'deleteTemplateSecret',
    response: out.deleted,
    tag: 'sites',
    summary: 'Delete a template secret of the site',
    access: 'admin',
    handler: (c) => deleteTemplateSecret(c.deps, c.params.id!, c.params.name!),
  }),

  route({
    method: 'post',
    path: '/v1/repositories',
    operationId: 'createRepository',
    response: out.repository,
    tag: 'repositories',
    summary:
      "Create a repository: it is `checking` until the site's agent found its path a writable directory (`ready`), or `unreachable` with the agent's reason; ?wait= answers once the check ended",
    access: 'admin',
    status: 201,
    body: s.createRepository,
    query: s.repositoryWait,
    handler: (c) => createRepositoryAction(c.deps, c.principal, c.body, c.query.wait),
  }),
  route({
    method: 'get',
    path: '/v1/repositories',
    operationId: 'listRepositories',
    response: out.repositoryList,
    tag: 'repositories',
    summary: 'List repositories',
    access: 'viewer',
    query: s.page,
    handler: async (c) => {
      const p = await c.deps.repositories.list(c.query);
      return list(p.items, p.cursor);
    },
  }),
  route({
    method: 'get',
    path: '/v1/repositories/{id}',
    operationId: 'getRepository',
    response: out.repository,
    tag: 'repositories',
    summary: 'Read a repository; ?wait= answers once its check in hand ended (while it is `checking`)',
    access: 'viewer',
    query: s.repositoryWait,
    handler: (c) => getRepository(c.deps, c.params.id!, c.query.wait),
  }),
  route({
    method: 'delete',
    path: '/v1/repositories/{id}',
    operationId: 'deleteRepository',
    response: out.deleted,
    tag: 'repositories',
    summary: 'Delete an empty repository',
    access: 'admin',
    handler: (c) => deleteRepository(c.deps, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/repositories/{id}/check',
    operationId: 'checkRepository',
    response: out.accepted,
    tag: 'repositories',
    summary:
      "Check the repository: the site's agent sees that its path is a writable directory (its status becomes `ready`, or `unreachable` with the reason; one not `ready` is `checking` meanwhile), then against the records it removes stray temp output and reports images no record names (orphans) and records whose image is missing; the result replaces the orphan list",
    access: 'operator',
    status: 202,
    handler: (c) => checkRepositoryAction(c.deps, c.principal, c.params.id!),
  }),
  route({
    method: 'get',
    path: '/v1/repositories/{id}/orphans',
    operationId: 'listRepositoryOrphans',
    response: out.orphans,
    tag: 'repositories',
    summary: 'What the last check found: orphans (path, size, format guess, mtime), missing images, removed temp files',
    access: 'viewer',
    handler: (c) => listOrphans(c.deps, c.params.id!),
  }),
  route({
    method: 'delete',
    path: '/v1/repositories/{id}/orphans/{name}',
    operationId: 'removeRepositoryOrphan',
    response: out.accepted,
    tag: 'repositories',
    summary: 'Remove an orphan (name: its path in the repository, URL-encoded) from the storage; audited',
    access: 'operator',
    status: 202,
    handler: (c) => removeOrphanAction(c.deps, c.principal, c.params.id!, c.params.name!),
  }),
  route({
    method: 'post',
    path: '/v1/repositories/{id}/orphans/{name}/adopt',
    operationId: 'adoptRepositoryOrphan',
    response: out.accepted,
    tag: 'repositories',
    summary:
      'Adopt an orphan as a master where it lies (no copy): an import of the file, which the agent inspects for its sha256, format and filesystem',
    access: 'operator',
    status: 202,
    body: s.adoptOrphan,
    handler: (c) => adoptOrphanAction(c.deps, c.principal, c.params.id!, c.params.name!, c.body),
  }),

  route({
    method: 'post',
    path: '/v1/machines',
    operationId: 'createMachine',
    response: out.machine,
    tag: 'machines',
    summary: 'Register a machine',
    access: 'operator',
    status: 201,
    body: s.createMachine,
    handler: (c) => createMachineAction(c.deps, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/machines',
    operationId: 'listMachines',
    response: out.machineList,
    tag: 'machines',
    summary: 'List machines, filtered by site, kind, tag, state',
    access: 'viewer',
    query: machineListQuery,
    handler: (c) => listMachines(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/machines/{id}',
    operationId: 'getMachine',
    response: out.machine,
    tag: 'machines',
    summary: 'Read a machine',
    access: 'viewer',
    handler: async (c) => machineView(await c.deps.machines.require(c.params.id!)),
  }),
  route({
    method: 'patch',
    path: '/v1/machines/{id}',
    operationId: 'updateMachine',
    response: out.machine,
    tag: 'machines',
    summary:
      'Change a machine: a JSON merge patch (RFC 7396) of its fields; credentials are write-only ("(set)" keeps one). While it carries a clone, kind, site and arch are fixed, from attach on identity and the settings of a machine that holds its disk (libvirt, xen, vsphere), and from power on the settings of the others (409 machine_bound)',
    access: 'operator',
    body: mergePatchBody,
    mergePatchOf: s.machineFields,
    handler: (c) => patchMachineAction(c.deps, c.params.id!, c.body),
  }),
  route({
    method: 'delete',
    path: '/v1/machines/{id}',
    operationId: 'deleteMachine',
    response: out.deleted,
    tag: 'machines',
    summary: 'Forget a machine that carries no clone',
    access: 'operator',
    handler: (c) => deleteMachine(c.deps, c.params.id!),
  }),
];
