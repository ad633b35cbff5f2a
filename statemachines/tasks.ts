/**
 * The contract between the workflows and the edge agent: for every agent task, one schema for the
 * input the functions put in the workflow and one for the outcome the agent sends back. The agent
 * checks the input when a task arrives; the functions check the outcome before they commit it. A
 * malformed one fails with the field at fault, never reaches a cast.
 *
 * Glossary
 * - task: what an activity hands the agent: `{task, operation, input}`.
 * - slot: a storage task reads or writes whole images, so it waits for one of its repository's
 *   slots on the agent (`slot(input)` names the repository); machine tasks take none.
 */
import { z } from 'zod';
import { bundlePath, MAX_BUNDLE_OBJECTS, manifest } from './bundle';
import { documentSource } from './customization';
import { discoverOutcome, knownDigest, MAX_SEEDS, seedRef } from './discovery';
import { secretRefSchema } from './secrets';

const id = z.string().min(1);
const count = z.number().int().nonnegative();

/** A repository as the agent needs it: where its root is on the agent's host and how to reach it. */
export const repositoryRef = z.object({
  id,
  kind: id,
  path: id,
  settings: z.record(z.string(), z.unknown()).optional(),
  name: id.optional(),
  /** A host-local repository: the host whose agent reaches it (the task is routed to that agent). */
  host: id.optional(),
});

/** An image: a repository and a path inside it. */
export const imageRef = z.object({
  repository: repositoryRef,
  path: id,
  format: z.enum(['raw', 'qcow2']).optional(),
});

/**
 * A machine as its driver needs it. Its credentials are references (`secret://<site>/<id>`, secrets.ts),
 * never values: the agent resolves them in memory just before a driver acts, so no workflow input,
 * history or journal ever holds a password.
 */
export const machineRef = z.object({
  id,
  name: id,
  kind: id,
  identity: z.object({
    macs: z.array(z.string()).optional(),
    serial: z.string().optional(),
    uuid: z.string().optional(),
    initiatorName: z.string().optional(),
  }),
  settings: z.record(z.string(), z.unknown()),
  credentials: z.record(z.string(), secretRefSchema).optional(),
  /** The host whose agent reaches the machine (the task is routed to that agent). */
  host: id.optional(),
});

/** How a machine reaches an image: a file on the agent's host, or an iSCSI LUN. */
export const diskRef = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('file'),
    path: id,
    format: z.enum(['raw', 'qcow2']),
    /** The same file as a vSphere datastore path (`[ds] dir/file`), when its repository names its datastore. */
    datastore: id.optional(),
  }),
  z.object({ kind: z.literal('iscsi'), portal: id, target: id, lun: count, format: z.literal('raw') }),
]);

/** An image's size (of the file: for qcow2 the container), allocation (holes excluded), sha256 and format. */
export const imageFacts = z.object({
  sizeBytes: count,
  allocatedBytes: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex'),
  format: z.enum(['raw', 'qcow2']),
});

/** The ext filesystem found in an image (null: none, so it cannot be customized offline). */
export const filesystem = z
  .object({
    type: id,
    offsetBytes: count,
    partition: count.optional(),
    label: z.string().optional(),
    uuid: z.string().optional(),
  })
  .nullable();

/** An image the agent looked at: its facts, its filesystem and where it is. */
const described = z.looseObject({ ...imageFacts.shape, filesystem, path: id });

/** An image file found in a repository; `format` is guessed from its header, `filesystem` from its bytes. */
export const storedImage = z.object({
  path: id,
  sizeBytes: count,
  allocatedBytes: count,
  format: z.enum(['raw', 'qcow2', 'unknown']),
  modifiedAt: id,
  filesystem: z.string().optional(),
  /** The iSCSI target that serves it as a LUN, where the repository serves LUNs. */
  servedAs: z.string().optional(),
});

/** What a check found of a repository's root: a directory the agent writes in, and its filesystem's space. */
export const repositoryRoot = z.object({ host: id, freeBytes: count, totalBytes: count });

/** At most this many orphans are reported by one check (the outcome must fit a task's output). */
export const MAX_REPORTED_ORPHANS = 500;

/**
 * Whether a check's `known` or `pending` paths claim the image at `image`: by its path, or (pending
 * only) by its path without the extension, which is how a clone being made is named: its storage
 * adds the extension of its method (`.img`, `.qcow2`).
 */
export function isClaimed(known: ReadonlySet<string>, pending: ReadonlySet<string>, image: string): boolean {
  return known.has(image) || pending.has(image) || pending.has(image.replace(/\.[^./]*$/, ''));
}

export const appliedChange = z.object({
  index: count,
  path: id,
  sha256Before: z.string().nullable(),
  sha256After: z.string(),
});

/**
 * What decides that a machine came up healthy after its activation: a marker on its serial console
 * (a regular expression, matched against what this power-on printed), a TCP connect, or an HTTP
 * status. `timeoutSeconds` bounds the wait for each.
 */
export const healthCheck = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('console'),
    marker: z.string().min(1).max(512),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
  }),
  z.strictObject({
    kind: z.literal('tcp'),
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
  }),
  z.strictObject({
    kind: z.literal('http'),
    url: z
      .string()
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// URL'),
    status: z.number().int().min(100).max(599).default(200),
    timeoutSeconds: z.number().int().min(1).max(3600).default(120),
  }),
]);
export type HealthCheck = z.infer<typeof healthCheck>;

/** Where a bundle is: a folder of a file repository, or S3 objects reached by presigned URLs (by bundle path). */
export const bundleLocation = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), repository: repositoryRef, path: id }),
  z.object({ kind: z.literal('s3'), urls: z.record(z.string(), z.string().url()) }),
]);

/** The images an import copies: each from its bundle path, checked part by part, to its place. */
const bundleCopy = z.object({
  bundle: bundleLocation,
  partBytes: z.number().int().min(1024),
  images: z
    .array(
      z.object({
        object: id,
        source: bundlePath,
        sizeBytes: count,
        sha256: imageFacts.shape.sha256,
        parts: z.array(imageFacts.shape.sha256),
        target: imageRef,
      }),
    )
    .max(MAX_BUNDLE_OBJECTS),
});

const range = { from: count, to: count };
const onMachine = z.object({ image: imageRef, machine: machineRef });

interface Contract<I extends z.ZodType, O extends z.ZodType> {
  doc: string;
  input: I;
  outcome: O;
  /** The repository whose slot a storage task takes (none: the task takes no slot). */
  slot?: (input: z.infer<I>) => string | undefined;
}

const contract = <I extends z.ZodType, O extends z.ZodType>(c: Contract<I, O>) => c;

export const taskContracts = {
  import: contract({
    doc: 'inspect an image in a repository (pulling an upload into it first)',
    input: z.object({
      repository: repositoryRef,
      path: id,
      /** Said by the request: the image is raw even with no filesystem or partition table found in it. */
      format: z.literal('raw').optional(),
      pull: z
        .object({ upload: id, key: id, url: z.string().url(), sizeBytes: count, sha256: z.string().optional() })
        .optional(),
    }),
    outcome: described,
    slot: (i) => i.repository.id,
  }),
  clone: contract({
    doc: 'make a clone image of a master',
    input: z.object({ source: imageRef, target: imageRef, method: id, sha256: z.string().optional() }),
    outcome: z.looseObject({ ...imageFacts.shape, method: id, path: id, backing: z.string().optional() }),
    slot: (i) => i.target.repository.id,
  }),
  customize: contract({
    doc: 'apply customization items [from, to) of the customization document to a clean clone offline',
    input: z.object({ image: imageRef, customization: documentSource, ...range }),
    outcome: z.looseObject({ applied: count, changes: z.array(appliedChange) }),
    slot: (i) => i.image.repository.id,
  }),
  rollback: contract({
    doc: 'undo applied customization items back to `to`',
    input: z.object({ image: imageRef, ...range }),
    outcome: z.looseObject({ applied: count }),
    slot: (i) => i.image.repository.id,
  }),
  attach: contract({
    doc: 'export the image to the machine and give the machine the disk',
    input: onMachine,
    outcome: z.looseObject({ attached: id, disk: diskRef }),
  }),
  detach: contract({
    doc: 'take the disk from the machine and withdraw the export',
    input: onMachine,
    outcome: z.looseObject({ detached: id }),
  }),
  power_on: contract({
    doc: 'power the machine on and wait for its boot',
    input: onMachine,
    outcome: z.looseObject({ power: z.enum(['on', 'off']), booted: z.boolean(), bootCount: count }),
  }),
  power_off: contract({
    doc: 'power the machine off',
    input: onMachine,
    outcome: z.looseObject({ power: z.enum(['on', 'off']) }),
  }),
  capture: contract({
    doc: "turn the clone's image into a master image at `target` (a linked clone is flattened)",
    input: z.object({ image: imageRef, target: id }),
    outcome: described,
    slot: (i) => i.image.repository.id,
  }),
  relocate: contract({
    doc: "copy a clone's image (and the undo records beside it) into another repository, verified against the source; the source stays",
    input: z.object({
      source: imageRef,
      /** The image's place in the other repository: the same path and extension. */
      target: imageRef,
      /** A linked clone's master: the copy must read through to it, rebased onto it if its backing file would not resolve. */
      backing: imageRef.optional(),
    }),
    outcome: z.looseObject({ ...imageFacts.shape, path: id }),
    slot: (i) => i.target.repository.id,
  }),
  destroy: contract({
    doc: "remove the clone's image",
    input: z.object({ image: imageRef }),
    outcome: z.looseObject({ removed: id }),
    slot: (i) => i.image.repository.id,
  }),
  health: contract({
    doc: 'wait until the machine passes its health check; a check that never passes is an `unhealthy` failure',
    input: z.object({ machine: machineRef, check: healthCheck }),
    outcome: z.looseObject({ healthy: z.literal(true), detail: z.string(), seconds: z.number().nonnegative() }),
  }),
  hook: contract({
    doc: "run a hook named in the agent's configuration against an image (no machine uses it) or a machine",
    input: z.object({
      hook: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a hook name'),
      image: imageRef.optional(),
      machine: machineRef.optional(),
    }),
    outcome: z.looseObject({ hook: id, exitCode: z.literal(0), output: z.string(), seconds: z.number().nonnegative() }),
    slot: (i) => i.image?.repository.id,
  }),
  discover: contract({
    doc: 'ask the seeds (BMCs, Redfish services, hypervisors, repositories) what machines and volumes they hold',
    input: z.object({
      seeds: z
        .array(seedRef.extend({ repository: repositoryRef.optional() }))
        .min(1)
        .max(MAX_SEEDS),
      /** Digests the functions know: a volume whose size and modification time are unchanged is not hashed again. */
      digests: z.array(knownDigest).default([]),
      /** Hash volumes no digest covers; false leaves sha256 out. */
      hash: z.boolean().default(true),
    }),
    outcome: discoverOutcome,
  }),
  bundle_write: contract({
    doc: 'write an export bundle: each image and metadata document hashed by parts, then manifest.json last',
    input: z.object({
      destination: bundleLocation,
      /** The manifest without its objects' sizes and hashes, which the agent fills in as it writes them. */
      header: manifest.omit({ objects: true, partBytes: true }),
      objects: z
        .array(
          z.object({
            /** The manifest entry but for `sizeBytes`, `sha256`, `parts` (and an image's facts). */
            entry: z.looseObject({ kind: id, id, path: bundlePath }),
            /** An image to copy in, or a JSON document's text. */
            source: imageRef.optional(),
            content: z.string().optional(),
          }),
        )
        .max(MAX_BUNDLE_OBJECTS),
    }),
    outcome: z.looseObject({ manifest, bytes: count, seconds: z.number().nonnegative() }),
    slot: (i) => (i.destination.kind === 'file' ? i.destination.repository.id : undefined),
  }),
  bundle_verify: contract({
    doc: "read a bundle's manifest and check every object's parts against it; nothing is written",
    input: z.object({ bundle: bundleLocation }),
    outcome: z.looseObject({
      manifest,
      /** The metadata documents' text, by bundle path. */
      documents: z.record(z.string(), z.string()),
      bytes: count,
      seconds: z.number().nonnegative(),
    }),
    slot: (i) => (i.bundle.kind === 'file' ? i.bundle.repository.id : undefined),
  }),
  bundle_copy: contract({
    doc: "copy a bundle's images into their repositories, part by part, keeping the parts an interrupted copy already has that match",
    input: bundleCopy,
    outcome: z.looseObject({
      images: z.array(
        z.looseObject({ ...imageFacts.shape, object: id, path: id, filesystem, copiedBytes: count, keptBytes: count }),
      ),
      seconds: z.number().nonnegative(),
    }),
    slot: (i) => i.images[0]?.target.repository.id,
  }),
  bundle_discard: contract({
    doc: 'remove the images a bundle_copy of this operation made (and their partials); others stay',
    input: bundleCopy,
    outcome: z.looseObject({ removed: z.array(id) }),
    slot: (i) => i.images[0]?.target.repository.id,
  }),
  check: contract({
    doc: "see that the repository's root is a writable directory (its free space), then compare it with its records: remove stray temp output, find images no record names, and records whose image is gone",
    input: z.object({
      repository: repositoryRef,
      /** `reach`: only the root (a new repository's first check); `contents`: the records too. */
      scope: z.enum(['reach', 'contents']).default('contents'),
      /** Images records name: each should be there. */
      known: z.array(id),
      /** Images work in hand is making or removing (a clone by its path without extension): they may be there or not, and their partial output stays. */
      pending: z.array(id),
    }),
    outcome: z.looseObject({
      /** The root is a directory the agent can write in; the space of its filesystem. */
      root: repositoryRoot,
      orphans: z.array(storedImage).max(MAX_REPORTED_ORPHANS),
      /** More orphans were found than reported. */
      truncated: z.boolean(),
      missing: z.array(id),
      removed: z.array(id),
    }),
    slot: (i) => i.repository.id,
  }),
};

export type TaskName = keyof typeof taskContracts;
export type TaskInput<T extends TaskName> = z.infer<(typeof taskContracts)[T]['input']>;
export type TaskOutcome<T extends TaskName> = z.infer<(typeof taskContracts)[T]['outcome']>;
export type RepositoryRef = z.infer<typeof repositoryRef>;
export type ImageRef = z.infer<typeof imageRef>;
export type MachineRef = z.infer<typeof machineRef>;
export type ImageFacts = z.infer<typeof imageFacts>;
export type AppliedChange = z.infer<typeof appliedChange>;
export type Filesystem = z.infer<typeof filesystem>;
export type DiskRef = z.infer<typeof diskRef>;
export type StoredImage = z.infer<typeof storedImage>;
export type RepositoryRoot = z.infer<typeof repositoryRoot>;
export type BundleLocation = z.infer<typeof bundleLocation>;
export type SeedInput = TaskInput<'discover'>['seeds'][number];

export const taskNames = Object.keys(taskContracts) as TaskName[];

/**
 * The task that undoes a task on the agent, and where each field of its input comes from in the
 * undone task's input. It runs when the task's outcome cannot be committed: the transition workflow
 * runs it before the failure is recorded (generate.ts), and the commit step leaves such a failure to
 * the workflow (functions/operations/end.ts). The agent runs it itself for a task it finds cut short
 * whose workflow is gone (a restart of the control plane). So a failed operation leaves no change
 * behind: a customize is undone by rolling back the range it applied, an attach by detaching.
 */
export const undoTasks = {
  customize: { task: 'rollback', input: { image: 'image', from: 'to', to: 'from' }, undoes: 'the change to the image' },
  attach: {
    task: 'detach',
    input: { image: 'image', machine: 'machine' },
    undoes: "the export and the machine's disk",
  },
  relocate: { task: 'destroy', input: { image: 'target' }, undoes: 'the copy in the other repository' },
} as const satisfies Partial<Record<TaskName, { task: TaskName; input: Record<string, string>; undoes: string }>>;

export type UndoSpec = (typeof undoTasks)[keyof typeof undoTasks];

export function undoOf(task: string | null | undefined): UndoSpec | undefined {
  return task && Object.hasOwn(undoTasks, task) ? undoTasks[task as keyof typeof undoTasks] : undefined;
}

/** The undo task's input, taken from the undone task's input. */
export function undoInput(spec: UndoSpec, input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec.input).map(([field, from]) => [field, input[from]]));
}

/**
 * The task that removes what a committed outcome replaced, and where each field of its input comes
 * from in the task's input. A relocation's commit switches the clone's record to the copy; the old
 * image is removed only then, so a failure at any point leaves one image that a record names. The
 * commit of such a task keeps its operation running (and the clone locked) until the workflow has
 * run the release (generate.ts) and the `released` step ends the operation (functions/operations/end.ts).
 */
export const releaseTasks = {
  relocate: { task: 'destroy', input: { image: 'source' }, releases: 'the image at its old place' },
} as const satisfies Partial<Record<TaskName, { task: TaskName; input: Record<string, string>; releases: string }>>;

export type ReleaseSpec = (typeof releaseTasks)[keyof typeof releaseTasks];

export function releaseOf(task: string | null | undefined): ReleaseSpec | undefined {
  return task && Object.hasOwn(releaseTasks, task) ? releaseTasks[task as keyof typeof releaseTasks] : undefined;
}

export function isTask(name: string): name is TaskName {
  return Object.hasOwn(taskContracts, name);
}

/** A value that does not fit its contract: the first field at fault and what is wrong with it. */
export interface Violation {
  field: string;
  problem: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; violation: Violation };

function check(schema: z.ZodType, value: unknown, root: string): Checked<unknown> {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, violation: { field: [root, ...issue.path.map(String)].join('.'), problem: issue.message } };
}

/** What an activity hands the agent (generate.ts writes these Parameters): the input is checked per task. */
export const taskEnvelope = z.object({ task: id, operation: id, input: z.unknown() });
export type TaskEnvelope = z.infer<typeof taskEnvelope>;

/** The activity's input text as an envelope, or what is wrong with it. */
export function checkEnvelope(text: string | undefined): Checked<TaskEnvelope> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch (e) {
    return { ok: false, violation: { field: 'task', problem: `not JSON (${(e as Error).message})` } };
  }
  return check(taskEnvelope, value, 'task') as Checked<TaskEnvelope>;
}

/** The task's input as the agent may use it, or what is wrong with it. */
export function checkInput<T extends TaskName>(task: T, input: unknown): Checked<TaskInput<T>> {
  // The schema is this task's by construction; TypeScript cannot follow `T` through the record.
  return check(taskContracts[task].input, input, 'input') as Checked<TaskInput<T>>;
}

/** The agent's outcome as the functions may commit it, or what is wrong with it. */
export function checkOutcome<T extends TaskName>(task: T, outcome: unknown): Checked<TaskOutcome<T>> {
  return check(taskContracts[task].outcome, outcome, 'outcome') as Checked<TaskOutcome<T>>;
}

/** The repository a storage task waits for a slot of; undefined for machine tasks. */
export function slotOf<T extends TaskName>(task: T, input: TaskInput<T>): string | undefined {
  const slot = taskContracts[task].slot as ((i: TaskInput<T>) => string | undefined) | undefined;
  return slot?.(input);
}
