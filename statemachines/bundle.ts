/**
 * A site bundle: what an export writes and an import reads, in S3 under `exports/<id>/` or in a folder
 * of a file repository. The one schema of `manifest.json`, used by the agent that writes and verifies a
 * bundle and by the functions that plan and commit an import.
 *
 * Glossary
 * - object: one file of the bundle beside the manifest: a master image, a clone image, or metadata
 *   (a JSON document: the machines, a clone's customization document).
 * - part: a fixed-size slice of an object (`partBytes`, the last one shorter). Each has its sha256 in
 *   the manifest, so an interrupted copy keeps the parts it already has that match and copies the rest.
 * - lineage: a master's `parent` is the bundle object id of the master it came from; an export holds the
 *   whole chain (every ancestor, and every lower version of each name), so an import never needs a
 *   master it does not have.
 * - credentials: never in a bundle. Machines travel without them; they must be given again.
 */
import { z } from 'zod';
import { customizationItem, variablesSchema } from './customization';

export const BUNDLE_FORMAT = 'encompass-bundle' as const;
export const BUNDLE_VERSION = 1 as const;
/** Every object is cut into parts of this size for hashing and resuming. */
export const PART_BYTES = 4 * 1024 * 1024;
export const MANIFEST = 'manifest.json';
/** At most this many objects in one bundle (an import commits them in one transaction). */
export const MAX_BUNDLE_OBJECTS = 40;
export const CREDENTIALS_NOTE =
  'machine credentials are not in this bundle: give them again after the import (PUT /v1/machines/{id}/credentials)';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');
const count = z.number().int().nonnegative();
/** A path inside the bundle: relative, no `..`, no backslashes. */
export const bundlePath = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path of letters, digits, ".", "_", "-"')
  .refine((p) => !p.split('/').includes('..') && p !== MANIFEST, 'must not contain ".." or name the manifest');

/** Where and what an object is: its bytes, their sha256 and the sha256 of each part. */
const stored = {
  id: z.string().min(1).max(64),
  path: bundlePath,
  sizeBytes: count,
  sha256,
  parts: z.array(sha256),
};

const facts = {
  format: z.enum(['raw', 'qcow2']),
  allocatedBytes: count.optional(),
};

export const masterObject = z.object({
  kind: z.literal('master'),
  ...stored,
  ...facts,
  name: z.string().min(1).max(128),
  version: z.number().int().min(1),
  parent: z.string().optional(),
  /** The repository the image was in at the source (an import maps it with `rebinding.repositories`). */
  repository: z.string().min(1),
  profile: z.record(z.string(), z.unknown()),
  requirements: z.record(z.string(), z.unknown()),
  customization: z.array(customizationItem),
});

export const cloneObject = z.object({
  kind: z.literal('clone'),
  ...stored,
  ...facts,
  name: z.string().min(1).max(128),
  /** The bundle id of its master (in the bundle). */
  master: z.string().min(1),
  repository: z.string().min(1),
  method: z.string().optional(),
  metastate: z.enum(['clean', 'operational', 'maintenance']),
  /** The machine it was bound to at the source, by name; an import binds it only to a rebinding target. */
  machine: z.string().optional(),
  template: z.array(customizationItem),
  applied: count,
  /** The bundle path of its customization document (include.customization), else absent. */
  customization: bundlePath.optional(),
});

export const metadataObject = z.object({
  kind: z.literal('metadata'),
  ...stored,
  /** What the JSON document holds. */
  of: z.enum(['machines', 'customization']),
});

export const bundleObject = z.discriminatedUnion('kind', [masterObject, cloneObject, metadataObject]);

export const manifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  export: z.string().min(1),
  exportedAt: z.string().min(1),
  site: z.object({ name: z.string().min(1) }),
  algorithm: z.literal('sha256'),
  partBytes: z.number().int().min(1024),
  credentials: z.string(),
  objects: z.array(bundleObject).max(MAX_BUNDLE_OBJECTS),
});

/** A machine as a bundle carries it: no credentials, no state of the source site. */
export const bundledMachine = z.object({
  name: z.string().min(1),
  kind: z.string().min(1),
  arch: z.string().optional(),
  cpus: count.optional(),
  memoryMiB: count.optional(),
  identity: z.record(z.string(), z.unknown()).default({}),
  settings: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(z.string()).optional(),
  /** The credential fields it had at the source, by name only: they must be given again. */
  credentialsNeeded: z.array(z.string()).default([]),
});
export const machinesDocument = z.object({ machines: z.array(bundledMachine) });

export const customizationDoc = z.object({ items: z.array(customizationItem), variables: variablesSchema });

export type Manifest = z.infer<typeof manifest>;
export type BundleObject = z.infer<typeof bundleObject>;
export type MasterObject = z.infer<typeof masterObject>;
export type CloneObject = z.infer<typeof cloneObject>;
export type BundledMachine = z.infer<typeof bundledMachine>;

/** How many parts an object of `sizeBytes` has. */
export const partCount = (sizeBytes: number, partBytes = PART_BYTES) => Math.max(1, Math.ceil(sizeBytes / partBytes));

/** The manifest's text as a manifest, or the problems found in it (field: what is wrong). */
export function readManifest(text: string): { ok: true; value: Manifest } | { ok: false; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`manifest.json is not JSON (${(e as Error).message})`] };
  }
  const r = manifest.safeParse(value);
  if (!r.success)
    return {
      ok: false,
      problems: r.error.issues.slice(0, 10).map((i) => `${['manifest', ...i.path].join('.')}: ${i.message}`),
    };
  const ids = new Set<string>();
  const paths = new Set<string>();
  for (const o of r.data.objects) {
    if (ids.has(o.id) || paths.has(o.path))
      return { ok: false, problems: [`manifest.objects: ${o.id} or ${o.path} twice`] };
    ids.add(o.id);
    paths.add(o.path);
    if (o.parts.length !== partCount(o.sizeBytes, r.data.partBytes))
      return {
        ok: false,
        problems: [`manifest.objects.${o.id}.parts: ${o.parts.length} parts for ${o.sizeBytes} bytes`],
      };
  }
  return { ok: true, value: r.data };
}
