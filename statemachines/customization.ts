/**
 * Customization items: the master holds an ordered template, a clone's assignment may add items and
 * gives the `variables` that fill `${name}`. The agent applies them offline, moving a pointer
 * (`applied`) forward; undo records let the pointer move back (rollback).
 */
import { z } from 'zod';

const absPath = z
  .string()
  .min(2)
  .max(4096)
  .regex(/^\//, 'must be an absolute path inside the image, e.g. /etc/hostname')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

export const fileItem = z
  .object({
    type: z.literal('file'),
    path: absPath,
    content: z
      .string()
      .max(256 * 1024)
      .optional(),
    source: z.string().min(1).max(4096).optional(),
    mode: z.number().int().min(0).max(0o7777).optional(),
  })
  .strict()
  .refine((i) => (i.content === undefined) !== (i.source === undefined), 'give exactly one of "content" or "source"');

export const replaceItem = z
  .object({
    type: z.literal('replace'),
    path: absPath,
    pattern: z.string().min(1).max(4096),
    replacement: z.string().max(64 * 1024),
    flags: z
      .string()
      .regex(/^[gimsu]*$/, 'flags may only contain g, i, m, s, u')
      .optional(),
  })
  .strict();

export const customizationItem = z.discriminatedUnion('type', [fileItem, replaceItem]);
export type CustomizationItem = z.infer<typeof customizationItem>;

/**
 * A variable's name as `${name}` references it, for the functions and the agent alike: letters,
 * digits, `_`, `.` and `-`, starting with a letter or `_` (`machine.name`, `ntp-server`).
 */
export const VARIABLE_NAME = '[A-Za-z_][A-Za-z0-9_.-]*';

export const variablesSchema = z.record(
  z.string().regex(new RegExp(`^${VARIABLE_NAME}$`), 'variable names are letters, digits, _ . -'),
  z.string().max(64 * 1024),
);

/**
 * A clone's customization as it is kept in S3 (functions/store/customizations.ts), never in a
 * record or a workflow's payload: the effective items (its master's template, then its own) and
 * the variables. One object per operation that changed it, immutable once written.
 */
export const customizationDocument = z
  .object({ items: z.array(customizationItem), variables: variablesSchema })
  .strict();
export type CustomizationDocument = z.infer<typeof customizationDocument>;

/** Where a customization document is and what it is: records and workflows carry this instead of the items. */
export const documentRef = z.object({
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex'),
  sizeBytes: z.number().int().nonnegative(),
  /** How many items it holds. */
  items: z.number().int().nonnegative(),
});
export type DocumentRef = z.infer<typeof documentRef>;

/** What the agent gets: the reference and a presigned GET URL of it (the agent holds no AWS credentials). */
export const documentSource = documentRef.extend({ url: z.string().url() });
export type DocumentSource = z.infer<typeof documentSource>;
