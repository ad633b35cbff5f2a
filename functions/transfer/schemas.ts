/** The bodies of the export and import routes. */
import { z } from 'zod';
import { ref } from '../domain/schemas';

const folder = z.object({ repository: ref, path: z.string().min(1).max(1024) }).strict();

export const createExport = z
  .object({
    /** Masters by id or name (`name@N` for a version); their lineage comes with them. */
    masters: z.array(ref).min(1).max(20),
    include: z
      .object({
        clones: z.boolean().default(false),
        machines: z.boolean().default(false),
        customization: z.boolean().default(false),
      })
      .strict()
      .default({ clones: false, machines: false, customization: false }),
    /** A folder of a file repository; absent: S3, under `exports/<id>/`. */
    to: folder.optional(),
  })
  .strict();

const mapping = z.record(z.string().min(1).max(256), ref).default({});

export const createImport = z
  .object({
    bundle: z.union([folder, z.object({ s3: ref }).strict()]),
    /** The site the bundle's objects land on. */
    site: ref,
    rebinding: z
      .object({ repositories: mapping, machines: mapping, sites: mapping })
      .strict()
      .default({ repositories: {}, machines: {}, sites: {} }),
    dryRun: z.boolean().default(false),
    /** A master or clone name the site uses for something else: leave it, import under another name, or refuse. */
    onConflict: z.enum(['skip', 'rename', 'fail']).default('fail'),
  })
  .strict();

export type CreateExport = z.infer<typeof createExport>;
export type CreateImport = z.infer<typeof createImport>;
