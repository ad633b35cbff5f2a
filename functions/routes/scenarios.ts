/** Routes for the scenarios: deployments, and releasing the machines they quarantine. */

import { healthCheck } from '../../statemachines/tasks';
import { checkHealthAction } from '../actions/machine-health';
import { machineView } from '../actions/views';
import * as out from '../domain/responses';
import * as s from '../domain/schemas';
import { type RouteSpec, route } from '../http/route';
import {
  createDeploymentAction,
  deleteDeploymentAction,
  deploymentView,
  getDeployment,
  listDeployments,
} from '../scenarios/deployments';
import { releaseMachineAction } from '../scenarios/machine-state';
import { createMigrationAction, createReassignmentAction, getScenario } from '../scenarios/moves';
import {
  approveServiceUpdate,
  createServiceUpdateAction,
  finalizeServiceUpdate,
  rollbackServiceUpdate,
  serviceUpdateView,
} from '../scenarios/service-updates';

export const scenarioRoutes: RouteSpec[] = [
  route({
    method: 'post',
    path: '/v1/deployments',
    operationId: 'createDeployment',
    response: out.deploymentAccepted,
    tag: 'scenarios',
    summary:
      'Deploy a master onto many machines: a clone per machine, customized, attached and powered on, as one operation (200 for a dry run or a repeated clientToken)',
    access: 'operator',
    status: 202,
    statusOf: (r) =>
      (r as { dryRun?: boolean; again?: boolean }).dryRun || (r as { again?: boolean }).again ? 200 : 202,
    body: s.createDeployment,
    handler: (c) => createDeploymentAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/deployments',
    operationId: 'listDeployments',
    response: out.deploymentList,
    tag: 'scenarios',
    summary: 'List deployments',
    access: 'viewer',
    query: s.page,
    handler: (c) => listDeployments(c.deps, c.query),
  }),
  route({
    method: 'get',
    path: '/v1/deployments/{id}',
    operationId: 'getDeployment',
    response: out.deployment,
    tag: 'scenarios',
    summary: 'Read a deployment: its members, each with its machine, clone, step, attempts, outcome and error',
    access: 'viewer',
    handler: async (c) => deploymentView(await getDeployment(c.deps, c.params.id!, 'deployment')),
  }),
  route({
    method: 'delete',
    path: '/v1/deployments/{id}',
    operationId: 'deleteDeployment',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      'Tear a deployment down (each member in reverse: deactivate, detach, unassign, destroy); 409 while it runs',
    access: 'operator',
    status: 202,
    handler: (c) => deleteDeploymentAction(c.deps, c.principal, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/migrations',
    operationId: 'createMigration',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      'Move a clone to another machine, its image to another repository of the site (storage: {repository}), or both, keeping its binding (an operational clone is not customized again); on a failure it goes back where it was',
    access: 'operator',
    status: 202,
    body: s.createMigration,
    handler: (c) => createMigrationAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/migrations/{id}',
    operationId: 'getMigration',
    response: out.deployment,
    tag: 'scenarios',
    summary: 'Read a migration: its one member, with its goals, step, outcome and error',
    access: 'viewer',
    handler: (c) => getScenario(c.deps, c.params.id!, 'migration'),
  }),
  route({
    method: 'post',
    path: '/v1/reassignments',
    operationId: 'createReassignment',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      "Switch a machine to another clone (an existing one, or one made now from a master); the old one becomes the machine's standby or is destroyed",
    access: 'operator',
    status: 202,
    body: s.createReassignment,
    handler: (c) => createReassignmentAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/reassignments/{id}',
    operationId: 'getReassignment',
    response: out.deployment,
    tag: 'scenarios',
    summary: 'Read a reassignment: its one member, with its goals, step, outcome and error',
    access: 'viewer',
    handler: (c) => getScenario(c.deps, c.params.id!, 'reassignment'),
  }),
  route({
    method: 'post',
    path: '/v1/service-updates',
    operationId: 'createServiceUpdate',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      "Roll a new master out onto a service's machines in waves: each gets a clone of it with its old clone's variables, and the old clone stays as its standby",
    access: 'operator',
    status: 202,
    body: s.createServiceUpdate,
    handler: (c) => createServiceUpdateAction(c.deps, c.principal, c.body),
  }),
  route({
    method: 'get',
    path: '/v1/service-updates/{id}',
    operationId: 'getServiceUpdate',
    response: out.serviceUpdate,
    tag: 'scenarios',
    summary: 'Read a service update: each machine with its old clone, its new clone, step and outcome',
    access: 'viewer',
    handler: (c) => serviceUpdateView(c.deps, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/service-updates/{id}/approve',
    operationId: 'approveServiceUpdate',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary:
      'Approve a prepared update: its staging clone is captured as the next version of the master, which is then rolled out',
    access: 'operator',
    status: 202,
    handler: (c) => approveServiceUpdate(c.deps, c.principal, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/service-updates/{id}/rollback',
    operationId: 'rollbackServiceUpdate',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary: 'Switch every updated machine back to its standby clone: nothing is cloned or customized; idempotent',
    access: 'operator',
    status: 202,
    handler: (c) => rollbackServiceUpdate(c.deps, c.principal, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/service-updates/{id}/finalize',
    operationId: 'finalizeServiceUpdate',
    response: out.scenarioAccepted,
    tag: 'scenarios',
    summary: 'Destroy the standby clones of a service update',
    access: 'operator',
    status: 202,
    handler: (c) => finalizeServiceUpdate(c.deps, c.principal, c.params.id!),
  }),
  route({
    method: 'post',
    path: '/v1/machines/{id}/release',
    operationId: 'releaseMachine',
    response: out.machine,
    tag: 'machines',
    summary: 'Release a quarantined machine: it becomes ready for use again',
    access: 'operator',
    handler: async (c) => machineView(await releaseMachineAction(c.deps, c.params.id!)),
  }),
  route({
    method: 'post',
    path: '/v1/machines/{id}/health-check',
    operationId: 'checkMachineHealth',
    response: out.accepted,
    tag: 'machines',
    summary:
      "Check a machine: a marker on its console, a TCP connect or an HTTP status, tried until it passes or times out (a failed check is the operation's `unhealthy` error)",
    access: 'operator',
    status: 202,
    body: healthCheck,
    handler: (c) => checkHealthAction(c.deps, c.principal, c.params.id!, c.body),
  }),
];
