/** Request bodies of the API, shared by the routes and the OpenAPI document. */
import { z } from 'zod';
import { customizationItem } from '../../statemachines/customization';
import { NAME_PATTERN, NAME_RULE } from './paths';

export const name = z.string().regex(NAME_PATTERN, NAME_RULE);
export const ref = z.string().min(1).max(200);

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

export const items = z.array(customizationItem).max(500);

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
    kind: z.enum(['file', 'iscsi']),
    path: z.string().regex(/^\//, 'must be an absolute path on the agent\u2019s host').max(4096),
    description: z.string().max(2000).optional(),
    /** iscsi: `{portal: "host:port", iqnPrefix: "iqn.YYYY-MM.reverse.domain", controlPort?, manageTarget?}` */
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine(
    (r) => r.kind !== 'iscsi' || (typeof r.settings?.portal === 'string' && typeof r.settings?.iqnPrefix === 'string'),
    'an iscsi repository needs settings.portal ("host:port") and settings.iqnPrefix ("iqn.2026-11.com.example")',
  );

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

export const createMachine = z
  .object({
    name,
    site: ref,
    kind: z.enum(['sim', 'qemu', 'libvirt', 'ipmi', 'redfish']),
    arch: z.string().max(32).default('x86_64'),
    cpus: z.number().int().positive().default(1),
    memoryMiB: z.number().int().positive().default(1024),
    identity: identity.default({}),
    settings: z.record(z.string(), z.unknown()).default({}),
    credentials: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const updateMachine = createMachine.omit({ name: true, site: true, kind: true }).partial().strict();

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

export const createUpload = z
  .object({
    name,
    repository: ref,
    sizeBytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 ** 4),
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

export const patchMaster = z
  .object({ profile: profile.optional(), requirements: requirements.optional(), customization: items.optional() })
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
