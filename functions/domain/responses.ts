/**
 * What the routes answer: one zod schema per record or view, built from the request schemas
 * (domain/schemas.ts) and the lifecycle table wherever they share a shape. The OpenAPI document names
 * each one as a component, and `route()` makes the compiler check every handler's result against its
 * route's schema, so the document cannot promise a field the handler does not return. A view keeps
 * more fields than it lists here (bookkeeping, internal keys); the document says so.
 */
import { z } from 'zod';
import { bindings, events, metastates, terminals } from '../../statemachines/lifecycle';
import { operationView } from '../operations/schema';
import * as s from './schemas';

/** An enum of the keys of a documented table (lifecycle states), each key's doc in the description. */
function keysOf<K extends string>(table: Record<K, string>, what: string) {
  const keys = Object.keys(table) as [K, ...K[]];
  return z.enum(keys).meta({ description: `${what}: ${keys.map((k) => `\`${k}\` (${table[k]})`).join('; ')}` });
}

const time = z.string().meta({ description: 'ISO 8601 time' });

/** Fields every named resource has; `rev` is the revision a PATCH may send back as a precondition. */
const base = { id: z.string(), name: z.string(), rev: z.number().int(), createdAt: time, updatedAt: time };

/** The error body of every 4xx (and of a 500, with code `internal`). */
export const error = z.object({
  error: z.object({
    code: z.string().meta({ description: 'stable snake_case identifier to match on (the message may be reworded)' }),
    message: z.string().meta({ description: 'what was wrong and what to do' }),
    problems: z
      .array(z.string())
      .optional()
      .meta({ description: 'for invalid input: one line per problem, starting with the field path' }),
  }),
});

/** A page of a list: pass `cursor` back as `?cursor=` for the next page; absent on the last one. */
const list = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), cursor: z.string().optional().meta({ description: 'the next page' }) });

/** 202: the work runs as an operation; follow it with `GET /v1/operations/{operation}?wait=`. */
export const accepted = z.object({
  operation: z.string(),
  status: z.literal('running'),
  links: z.object({ self: z.string() }),
});
/** 202 for a scenario: its record's id beside the operation. */
export const scenarioAccepted = accepted.extend({ id: z.string() });

export const deleted = z.object({ deleted: z.string() });
export const revoked = z.object({ revoked: z.string() });

export const health = z.object({
  status: z.string().meta({ description: '`ok` or `degraded`' }),
  components: z.object({
    dynamodb: z.string(),
    s3: z.string(),
    stepfunctions: z.string(),
    agents: z.union([z.string(), z.record(z.string(), z.string())]),
  }),
  sites: z
    .union([z.string(), z.record(z.string(), z.string())])
    .meta({ description: 'per site: `ok`, or which agents are silent' }),
});

export const operation = operationView;
export const operationList = list(operation);
export const progressReported = z.object({ accepted: z.boolean(), status: operationView.shape.status });

export const auditEntry = z.object({
  id: z.string(),
  at: time,
  actor: z.string(),
  action: z.string(),
  resource: z.object({ kind: z.string(), id: z.string(), name: z.string().optional() }),
  outcome: z.enum(['accepted', 'succeeded', 'failed', 'denied']),
  operation: z.string().optional(),
  detail: z.string().optional(),
});
export const auditList = list(auditEntry);

export const token = z.object({
  id: z.string(),
  role: s.createToken.shape.role,
  site: z.string().optional(),
  label: z.string().optional(),
  createdAt: time,
  createdBy: z.string(),
});
export const tokenList = list(token);
export const createdToken = token.extend({ token: z.string().meta({ description: 'the secret: shown once' }) });

export const site = z.object({
  ...s.createSite.shape,
  ...base,
  agents: z
    .record(z.string(), z.object({ host: z.string(), lastSeen: time, version: z.string().optional() }))
    .optional()
    .meta({ description: 'its agents by host, as each last reported itself' }),
});
export const siteList = list(site);
export const agentReported = z.object({
  site: z.string(),
  host: z.string(),
  lastSeen: time,
  checks: z.array(z.string()).optional(),
});
export const agentForgotten = z.object({ site: z.string(), forgotten: z.string() });
export const templateSecret = z.object({
  site: z.string(),
  name: z.string(),
  secret: z.string().meta({ description: 'its reference, `secret://<site>/templates/<name>`' }),
  created: z.boolean(),
});

export const repository = z.object({
  ...s.createRepository.shape,
  ...base,
  status: z.enum(['checking', 'ready', 'unreachable']).meta({
    description:
      "`checking`: its site's agent has not yet found its path usable (work that would use it is refused with 409 repository_not_ready; GET ?wait= answers once the check ended); `ready`: usable; `unreachable`: its last check failed (`reason`): fix the path, then POST /v1/repositories/{id}/check",
  }),
  operation: z.string().optional().meta({ description: 'the check whose end sets the status: in hand, or the last' }),
  reason: z
    .object({ code: z.string(), message: z.string(), operation: z.string().optional(), at: time })
    .optional()
    .meta({ description: 'why it is not ready and what to do: the agent\u2019s reason, or what the check waits for' }),
  root: z
    .object({ checkedAt: time, host: z.string(), freeBytes: z.number().int(), totalBytes: z.number().int() })
    .optional()
    .meta({
      description: 'what the last check that reached it found: by which agent, and the space of its filesystem',
    }),
});
export const repositoryList = list(repository);
export const orphans = z.object({
  repository: z.string(),
  checkedAt: time.nullable(),
  items: z.array(z.object({ path: z.string() })),
  missing: z.array(z.unknown()),
  removed: z.array(z.unknown()),
  truncated: z.boolean(),
});

export const machine = z.object({
  ...s.machineFields.shape,
  ...base,
  identity: s.identity,
  settings: z.record(z.string(), z.unknown()),
  credentials: z
    .record(z.string(), z.string())
    .meta({ description: 'write-only: each credential that is set shows as "(set)"' }),
  state: z.enum(['ready', 'reserved', 'quarantined', 'discovered', 'missing']),
  clone: z.string().optional().meta({ description: 'the clone assigned to it' }),
});
export const machineList = list(machine);

const cloneSummary = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  metastate: keysOf(metastates, 'metastate'),
  binding: keysOf(bindings, 'binding'),
});

export const master = z.object({
  ...s.importMaster.shape,
  ...base,
  ...s.masterFields.shape,
  status: z.enum(['importing', 'ready']),
  version: z.number().int(),
  format: z.string().optional(),
  sizeBytes: z.number().optional(),
  allocatedBytes: z.number().optional(),
  sha256: z.string().optional(),
  parent: z.string().optional().meta({ description: 'the master version it was captured from' }),
  operation: z.string().optional(),
});
export const masterList = list(master);
export const masterDetail = master.extend({
  clones: z.array(cloneSummary).meta({ description: 'its live clones' }),
  children: z.array(z.object({ id: z.string(), name: z.string(), version: z.number().int() })),
});

export const upload = z.object({
  upload: z.string(),
  key: z.string(),
  method: z.string().meta({ description: '`PUT` (one presigned URL) or `multipart` (parts, then complete)' }),
  url: z.string().optional().meta({ description: 'PUT: the presigned URL' }),
  partBytes: z.number().int().optional(),
  expiresInSeconds: z.number().int(),
});

export const clone = z.object({
  ...base,
  status: z.union([z.literal('creating'), z.literal('ready'), keysOf(terminals, 'terminal status')]),
  master: z.string(),
  repository: z.string(),
  path: z.string(),
  method: z.string().optional().meta({ description: 'the clone method used' }),
  metastate: cloneSummary.shape.metastate,
  binding: cloneSummary.shape.binding,
  machine: z.string().optional(),
  customization: z.object({
    applied: z.number().int().meta({ description: 'how many of the effective items are applied' }),
    total: z.number().int(),
    pending: z.number().int(),
  }),
  template: s.items.meta({ description: "the master's items when the clone was made" }),
  bootCount: z.number().int(),
  lock: z.string().optional().meta({ description: 'the operation holding the clone' }),
  lastError: z
    .object({ code: z.string(), message: z.string(), reason: z.string().optional(), operation: z.string(), at: time })
    .optional(),
  events: z.array(z.enum(events as [string, ...string[]])).meta({ description: 'the events allowed now' }),
});
export const cloneList = list(clone);

const droppedVariables = z.array(z.string()).optional().meta({
  description:
    "variables carried from the machine's old clone (a service update) that the new master's template does not use: left out of the new clone's customization",
});
const memberMessage = z
  .string()
  .optional()
  .meta({ description: 'what the row says besides its outcome, e.g. which variables were dropped and why' });

const member = z.object({
  index: z.number().int(),
  machine: z.string().optional(),
  clone: z.string(),
  cloneId: z.string().optional(),
  step: z.string(),
  attempts: z.number().int(),
  outcome: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string(), step: z.string() }).optional(),
  dropped: droppedVariables,
  message: memberMessage,
});

export const deployment = z.object({
  ...base,
  scenario: z.enum(['deployment', 'migration', 'reassignment', 'service_update']).optional(),
  site: z.string(),
  master: z.string(),
  status: z.string(),
  operation: z.string(),
  members: z.array(member),
  summary: z.object({
    members: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    rolledBack: z.number().int(),
    inProgress: z.number().int(),
  }),
});
export const deploymentList = list(deployment);
/** A deployment's answer: 202 with its operation, or 200 with its plan for a dry run or a repeated clientToken. */
export const deploymentAccepted = z.object({
  id: z.string().optional(),
  operation: z.string().optional(),
  dryRun: z.boolean().optional(),
  again: z.boolean().optional(),
  plan: z.unknown().optional(),
});
export const serviceUpdate = deployment.extend({
  staging: z.object({ machine: z.string().optional(), clone: z.string().nullable(), step: z.string() }).nullable(),
  machines: z.array(
    z.object({
      machine: z.string().optional(),
      old: z.string().optional(),
      new: z.string().optional(),
      dropped: droppedVariables,
      message: memberMessage,
    }),
  ),
});

export const discovery = z.object({
  id: z.string(),
  site: z.string(),
  operation: z.string(),
  status: z.string(),
  progress: z.number().optional(),
  result: z.record(z.string(), z.unknown()).optional().meta({ description: 'the diff, once it ended' }),
});
export const discoveryList = list(discovery);
export const discoveryAccepted = z.object({ id: z.string(), operation: z.string() });
export const conflict = z.object({ id: z.string(), site: z.string(), status: z.string(), reason: z.string() });
export const conflictList = z.object({ items: z.array(conflict) });
export const siteDiscovery = z.object({
  site: z.string(),
  seeds: z.array(
    z.object({
      kind: z.string(),
      address: z.string(),
      credentials: z.record(z.string(), z.string()).meta({ description: 'each set credential as "(set)"' }),
    }),
  ),
  everyMinutes: z.number().int(),
  settings: z.record(z.string(), z.unknown()),
  nextRunAt: time.optional(),
  lastRun: z.object({ discovery: z.string(), at: time }).optional(),
});

export const transfer = z.object({ id: z.string(), site: z.string(), status: z.string(), operation: z.string() });
export const transferList = list(transfer);

/** Every response schema by its component name in the OpenAPI document. */
export const components = {
  Error: error,
  Accepted: accepted,
  ScenarioAccepted: scenarioAccepted,
  Deleted: deleted,
  Revoked: revoked,
  Health: health,
  Operation: operation,
  OperationList: operationList,
  ProgressReported: progressReported,
  AuditEntry: auditEntry,
  AuditList: auditList,
  Token: token,
  TokenList: tokenList,
  CreatedToken: createdToken,
  Site: site,
  SiteList: siteList,
  AgentReported: agentReported,
  AgentForgotten: agentForgotten,
  TemplateSecret: templateSecret,
  Repository: repository,
  RepositoryList: repositoryList,
  Orphans: orphans,
  Machine: machine,
  MachineList: machineList,
  Master: master,
  MasterList: masterList,
  MasterDetail: masterDetail,
  Upload: upload,
  Clone: clone,
  CloneList: cloneList,
  Deployment: deployment,
  DeploymentList: deploymentList,
  DeploymentAccepted: deploymentAccepted,
  ServiceUpdate: serviceUpdate,
  Discovery: discovery,
  DiscoveryList: discoveryList,
  DiscoveryAccepted: discoveryAccepted,
  Conflict: conflict,
  ConflictList: conflictList,
  SiteDiscovery: siteDiscovery,
  Transfer: transfer,
  TransferList: transferList,
} as const;
