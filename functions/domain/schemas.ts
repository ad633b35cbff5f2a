/** Request bodies of the API, shared by the routes and the OpenAPI document. */
import { z } from 'zod';
import { customizationItem, variablesSchema } from '../../statemachines/customization';
import { machineKinds, missingSettingMessage, missingSettings, storageKinds } from '../../statemachines/kinds';
import { healthCheck } from '../../statemachines/tasks';
import { operationQuery } from '../operations/schema';
import { MAX_WAIT_SECONDS } from '../operations/wait';
import { unstorable, valueBytes } from '../store/limits';
import { patternProblem } from './customization';
import { NAME_PATTERN, NAME_RULE } from './paths';

export const name = z.string().regex(NAME_PATTERN, NAME_RULE);
export const ref = z.string().min(1).max(200, 'at most 200 characters: an id or a name');

/** How deep free-form settings may nest: far less than a record may (32 levels), for where they are kept. */
const SETTINGS_LEVELS = 16;

/**
 * Free-form driver settings: a JSON object that a record can keep (see store/limits.ts) and small
 * enough to travel in a task's input. A driver's settings are a few names and numbers; files stay on
 * the agent's host and are named.
 */
export const settings = (maxBytes = 64 * 1024) =>
  z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const bad = unstorable(value, SETTINGS_LEVELS, 0);
    if (bad) ctx.addIssue({ code: 'custom', path: bad.path, message: bad.problem });
    else if (valueBytes(value) > maxBytes)
      ctx.addIssue({
        code: 'custom',
        message: `takes more than ${maxBytes / 1024} KiB; settings are names and numbers: keep files on the agent's host and give their paths`,
      });
  });

export const profile = z
  .object({
    service: z.string().max(200).optional(),
    software: z.array(z.string().max(200)).max(200).optional(),
    description: z.string().max(2000).optional(),
  })
  .strict();

export const requirements = z
  .object({
    arch: z.string().max(32).optional(),
    minCpus: z.number().int().positive().optional(),
    minMemoryMiB: z.number().int().positive().optional(),
  })
  .strict();

/** Customization items; a `replace` item's pattern must compile (checked here, so the problem names the item). */
export const items = z
  .array(customizationItem)
  .max(500)
  .superRefine((list, ctx) =>
    list.forEach((item, i) => {
      const problem = patternProblem(item);
      if (problem) ctx.addIssue({ code: 'custom', path: [i, 'pattern'], message: `${problem}; fix the pattern` });
    }),
  );

/**
 * A customization's variables: the values of its items' `${name}` references. No name is built in,
 * and a name that none of the clone's items uses is refused, so that a misspelling is never kept
 * while the variable the template needs is left out.
 */
export const variables = variablesSchema.meta({
  description:
    "Values of the customization items' `${name}` references (the master's template, then the clone's own items and the request's). No variable is built in. A name that none of these items uses is refused with 400 `unknown_variable`, whose `unknown` and `expected` list the names given that no item uses and the names the items use; one that the items use but no request gave is a 400 `invalid_input` that names it.",
});

/**
 * Host names: the host an agent runs on. With its site they name the host's own activity and state
 * machines (`encompass-<site>.<host>-transition`, 80 characters at most).
 */
export const HOST_RULE = 'host names are 1-18 lower-case letters, digits or "-", starting with a letter or digit';
export const hostName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,17}$/, HOST_RULE);

/** Fabrics: what a machine is cabled to and a repository is served on (an iSCSI VLAN, a NAS network). */
const fabric = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, 'a fabric is 1-63 letters, digits, . _ : -');

/**
 * Which machines can reach a repository. Absent: every machine of its site (a host-local repository:
 * the machines on its host). Given: a machine reaches it when it is named in `machines`, runs on one of
 * `hosts`, or is on one of `fabrics`.
 */
const reach = z
  .object({
    machines: z.array(ref).max(500).optional(),
    hosts: z.array(hostName).max(100).optional(),
    fabrics: z.array(fabric).max(32).optional(),
  })
  .strict();

/** Site names go into state machine names (80 characters at most): `encompass-<site>-transition`. */
export const createSite = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'site names are 1-40 letters, digits, "_" or "-"'),
    description: z.string().max(2000).optional(),
  })
  .strict();

export const createRepository = z
  .object({
    name,
    site: ref,
    kind: z.enum(storageKinds),
    path: z.string().regex(/^\//, 'must be an absolute path on the agent\u2019s host').max(4096),
    description: z.string().max(2000).optional(),
    /** iscsi: `{portal: "host:port", iqnPrefix: "iqn.YYYY-MM.reverse.domain", controlPort?, manageTarget?}` */
    settings: settings().optional(),
    /** Host-local: only the agent on this host reaches it. Absent: shared, reached by the site's agents. */
    host: hostName.optional(),
    reach: reach.optional(),
    /** How many clones a deployment's tree makes from one image of this repository at once (its fan-out). */
    limits: z
      .object({ clonesPerSource: z.number().int().min(1).max(1024).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (r) => r.kind !== 'iscsi' || (typeof r.settings?.portal === 'string' && typeof r.settings?.iqnPrefix === 'string'),
    'an iscsi repository needs settings.portal ("host:port") and settings.iqnPrefix ("iqn.2026-11.com.example")',
  );

/** `?wait=SECONDS` on a repository's create and read: answer once its check ended (the operation's wait). */
export const repositoryWait = z.object({
  wait: operationQuery.shape.wait.meta({
    description: `While the repository is \`checking\`, answer once its check ended, or after this many seconds (1 to ${MAX_WAIT_SECONDS}) with it still checking.`,
  }),
});

const mac = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, 'a MAC address like 52:54:00:12:34:56')
  .transform((m) => m.toLowerCase().replace(/-/g, ':'));

export const identity = z
  .object({
    macs: z.array(mac).max(16).optional(),
    serial: z.string().max(200).optional(),
    uuid: z.string().max(64).optional(),
    initiatorName: z.string().max(223).optional(),
  })
  .strict();

/**
 * Write-only secrets of a machine's driver (a BMC password): names to values. A name becomes the last
 * part of the secret's reference (`secret://<site>/machines/<id>/<name>`), hence the secret id's rule.
 */
const credentials = z
  .record(
    z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
        'a credential name is 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
      ),
    z.string().min(1, 'a credential needs a value (null removes it)').max(4096),
  )
  .refine((c) => Object.keys(c).length <= 32, 'at most 32 credentials');

/**
 * A machine as stored, less what the server keeps (id, rev, times, the clone it carries): what a
 * PATCH merges into and is checked against whole. A map (identity, settings) that a patch removes
 * with null becomes empty; a scalar cannot be removed.
 */
export const machineFields = z
  .object({
    name,
    site: ref,
    kind: z.enum(machineKinds),
    arch: z.string().min(1).max(32),
    cpus: z.number().int().positive().max(65_536),
    memoryMiB: z
      .number()
      .int()
      .positive()
      .max(2 ** 32),
    identity: identity.default({}),
    settings: settings().default({}),
    credentials: credentials.optional(),
    tags: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,62}$/, 'a tag is 1-63 letters, digits, . _ : / -'))
      .max(32)
      .optional(),
    /** The host whose agent reaches it (its hypervisor, or the agent next to its BMC). Absent: any agent of its site. */
    host: hostName.optional(),
    /** The storage fabrics it is on, matched against repositories' `reach.fabrics`. */
    fabrics: z.array(fabric).max(32).optional(),
  })
  .strict();

/** A machine's settings hold what its kind's driver cannot reach it without (kinds.ts `requiredSettings`). */
function withRequiredSettings(m: z.infer<typeof machineFields>, ctx: z.RefinementCtx) {
  for (const [key, what] of missingSettings(m.kind, m.settings))
    ctx.addIssue({
      code: 'custom',
      path: ['settings', key],
      message: missingSettingMessage(m.kind, what),
    });
}

/** A machine as a patch leaves it: checked whole, required settings included. */
export const patchedMachine = machineFields.superRefine(withRequiredSettings);

/** Registering a machine: what is left out takes a default. */
export const createMachine = machineFields
  .extend({
    arch: machineFields.shape.arch.default('x86_64'),
    cpus: machineFields.shape.cpus.default(1),
    memoryMiB: machineFields.shape.memoryMiB.default(1024),
  })
  .superRefine(withRequiredSettings);

/** An image with neither a filesystem nor a partition table is imported only when the request says it is raw. */
const rawFormat = z.literal('raw').optional();

export const importMaster = z
  .object({
    name,
    repository: ref,
    path: z.string().min(1).max(4096),
    format: rawFormat,
    profile: profile.optional(),
    requirements: requirements.optional(),
    customization: items.optional(),
  })
  .strict();

/** Adopting an orphan: a master made of the file where it is; the repository and path are the orphan's. */
export const adoptOrphan = importMaster.omit({ repository: true, path: true }).strict();

export const createUpload = z
  .object({
    name,
    repository: ref,
    // S3's largest object.
    sizeBytes: z
      .number()
      .int()
      .positive()
      .max(5 * 1024 ** 4, 'at most 5 TiB, the largest object S3 keeps'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha256')
      .optional(),
    format: rawFormat,
    profile: profile.optional(),
    requirements: requirements.optional(),
    customization: items.optional(),
  })
  .strict();

/** What a PATCH of a master merges into: its profile, requirements and template items (null empties one). */
export const masterFields = z
  .object({ profile: profile.default({}), requirements: requirements.default({}), customization: items.default([]) })
  .strict();

export const createClone = z
  .object({
    master: ref,
    name,
    repository: ref.optional(),
    method: z.enum(['auto', 'copy', 'sparse', 'reflink', 'overlay', 'san']).default('auto'),
  })
  .strict();

export const createToken = z
  .object({
    role: z.enum(['viewer', 'operator', 'admin', 'agent']),
    site: ref.optional(),
    label: z.string().max(200).optional(),
  })
  .strict()
  .refine((t) => (t.role === 'agent') === (t.site !== undefined), 'agent tokens need a "site"; other roles take none');

export const page = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(2000).optional(),
});

export const tags = machineFields.shape.tags;

export const MAX_DEPLOYMENT_MEMBERS = 500;

export const createDeployment = z
  .object({
    master: ref,
    machines: z.array(ref).min(1).max(MAX_DEPLOYMENT_MEMBERS).optional(),
    count: z.number().int().min(1).max(MAX_DEPLOYMENT_MEMBERS).optional(),
    selector: z
      .object({
        site: ref.optional(),
        kind: machineFields.shape.kind.optional(),
        tags: tags.optional(),
      })
      .strict()
      .optional(),
    /** The clone name template; `${index}` (from 1) keeps the names apart. */
    name: z.string().min(1).max(200).optional(),
    variables: variables
      .meta({
        description:
          "Each member's variables, rendered per member: a value may use `${index}`, `${machine.name}`, `${machine.id}`, `${machine.mac}`, `${machine.serial}`, `${master}`, `${deployment}` and the variables before it. A name that neither the master's template nor `items` uses is refused with 400 `unknown_variable`, unless `name`, `healthCheck` or another variable uses it (then it builds those and the clones do not get it).",
      })
      .optional(),
    items: items.optional(),
    method: createClone.shape.method,
    /** Where every member's clone goes; absent: its machine's host-local repository with a fanout, else the master's. */
    repository: ref.optional(),
    /**
     * Clone as a tree: N copies (relays) from the master, N from each of those, and so on, until each
     * member's clone has a source; capped by each repository's `limits.clonesPerSource`. Absent: every
     * clone is made from the master.
     */
    fanout: z.number().int().min(2).max(64).optional(),
    activate: z.boolean().default(true),
    failurePolicy: z
      .object({
        maxFailures: z.number().int().min(0).max(MAX_DEPLOYMENT_MEMBERS).default(0),
        onFailure: z.enum(['continue', 'stop', 'rollback']).default('stop'),
      })
      .strict()
      .default({ maxFailures: 0, onFailure: 'stop' }),
    clientToken: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, '1-64 letters, digits, . _ : -')
      .optional(),
    dryRun: z.boolean().default(false),
    /** Tried after each member's activation; a member that fails it is torn down like any failed member. */
    healthCheck: healthCheck.optional(),
  })
  .strict()
  .refine((d) => (d.machines === undefined) !== (d.count === undefined), {
    message: 'give either "machines" (a list) or "count" (with an optional "selector"), not both',
  })
  .refine((d) => d.selector === undefined || d.count !== undefined, {
    message: '"selector" picks machines for "count"; with "machines" it has no use',
  });

export const createMigration = z
  .object({
    clone: ref,
    /** The machine the clone moves to; absent: it stays bound as it is. */
    toMachine: ref.optional(),
    /**
     * "keep": the image stays in its repository and the new machine reaches it there; `{repository}`:
     * the image moves to that repository of the site, while no machine reaches it.
     */
    storage: z.union([z.literal('keep'), z.object({ repository: ref }).strict()]).default('keep'),
    /** For a clean clone: variables of its customization for the new machine. */
    variables: variables.optional(),
  })
  .strict();

export const createReassignment = z
  .object({
    machine: ref,
    to: z.union([
      z.object({ clone: ref }).strict(),
      z.object({ master: ref, name: name.optional(), variables: variables.optional() }).strict(),
    ]),
    old: z.enum(['standby', 'destroy']).default('standby'),
  })
  .strict();

export const createServiceUpdate = z
  .object({
    machines: z.array(ref).min(1).max(MAX_DEPLOYMENT_MEMBERS).optional(),
    deployment: ref.optional(),
    /** The master the service moves to (a newer version, or another master): the update is not prepared. */
    newMaster: ref.optional(),
    /** Prepare the update here: a clone of the service's master, in maintenance, for a hook or an operator to change. */
    stagingMachine: ref.optional(),
    /** A hook of the site's agent (by name) that applies the update to the staging clone; none: an operator does it. */
    hook: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a hook name: lower case letters, digits and -')
      .optional(),
    /** Variables of the staging clone's customization (its own hostname…). */
    variables: variables
      .meta({
        description:
          "Variables of the staging clone's customization (its own hostname…); a name the master's template does not use is refused with 400 `unknown_variable`. The machines of the service keep their old clones' variables: those the new master's template does not use are left out, and each machine's row names them (`dropped`).",
      })
      .optional(),
    waves: z
      .object({
        size: z.number().int().min(1).max(MAX_DEPLOYMENT_MEMBERS).default(1),
        pauseOnFailure: z.boolean().default(true),
      })
      .strict()
      .default({ size: 1, pauseOnFailure: true }),
    /** Tried after each machine's activation: a machine that fails it is switched back to its old clone at once. */
    healthCheck: healthCheck.optional(),
  })
  .strict()
  .refine((b) => (b.machines === undefined) !== (b.deployment === undefined), {
    message: 'give either "machines" or "deployment", not both',
  })
  .refine((b) => (b.newMaster === undefined) !== (b.stagingMachine === undefined), {
    message:
      'give either "newMaster" (the master to roll out) or "stagingMachine" (where to prepare it from the service\'s master), not both',
  })
  .refine((b) => b.stagingMachine !== undefined || (b.hook === undefined && b.variables === undefined), {
    message: '"hook" and "variables" are for the staging clone: they need "stagingMachine"',
  });
