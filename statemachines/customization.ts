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

export const variablesSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'variable names are letters, digits, _ . -'),
  z.string().max(64 * 1024),
);
