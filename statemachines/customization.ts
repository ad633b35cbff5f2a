/**
 * Customization items: the master holds an ordered template, a clone's assignment may add items and
 * gives the `variables` that fill `${name}`. The agent applies them offline, moving a pointer
 * (`applied`) forward; undo records let the pointer move back (rollback).
 */
import { z } from 'zod';
import { formatSecretRef } from './secrets';

/**
 * `${secret:NAME}`: a value from the secret store, resolved by the agent when it applies the item (as
 * `secret://<its site>/templates/NAME`, put with `PUT /v1/sites/{site}/secrets/{name}`), so it is in
 * no record, task input or undo record. It is its own syntax, not a variable: `${name}` scanners skip
 * it (a `:` is no variable-name character), and `$${secret:NAME}` is the literal text. It may stand in
 * file content, a replacement and registry string data; never in a path, a pattern, a key or a value name.
 */
export const SECRET_REFERENCE = /(?<!\$)\$\{secret:([^}]*)\}/g;
/** A template secret's name: one segment of a secret id. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Where the template secret `name` of `site` lives in the secret store. */
export function templateSecretRef(site: string, name: string): string {
  return formatSecretRef({ site, id: `templates/${name}` });
}

const noSecret = (text: string) => !/\$\{secret:/.test(text.replaceAll('$${', ''));
const NO_SECRET = 'a ${secret:NAME} may stand only in content, a replacement or registry data';

const absPath = z
  .string()
  .min(2)
  .max(4096)
  .regex(/^\//, 'must be an absolute path inside the image, e.g. /etc/hostname')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
  .refine(noSecret, NO_SECRET);

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
    pattern: z.string().min(1).max(4096).refine(noSecret, NO_SECRET),
    replacement: z.string().max(64 * 1024),
    flags: z
      .string()
      .regex(/^[gimsu]*$/, 'flags may only contain g, i, m, s, u')
      .optional(),
  })
  .strict();

/** The hive files a `registry` item edits, by hive name, as they lie in a Windows volume. */
export const HIVE_FILES = {
  SYSTEM: '/Windows/System32/config/SYSTEM',
  SOFTWARE: '/Windows/System32/config/SOFTWARE',
  SAM: '/Windows/System32/config/SAM',
  SECURITY: '/Windows/System32/config/SECURITY',
  DEFAULT: '/Windows/System32/config/DEFAULT',
} as const;
export type HiveName = keyof typeof HIVE_FILES;

const REGISTRY_TYPES = ['string', 'expand_string', 'multi_string', 'dword', 'qword', 'binary'] as const;
const registryText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((t) => ![...t].some((c) => c.charCodeAt(0) < 0x20), 'must not contain control characters')
    .refine(noSecret, NO_SECRET);

/**
 * Sets one value in a hive of the image, offline (hivexregedit --merge), creating its key (and the
 * keys above it) when missing: `key` is relative to the hive's root (`ControlSet001\\Services\\Tcpip`),
 * `name` '' is the key's default value. `data` is a string (string, expand_string: `${name}` and
 * `${secret:NAME}` allowed), an array of strings (multi_string), an integer (dword: 0…2³²−1, qword),
 * or hex digits (binary). Its undo record holds the hive file's bytes before it, like a file item's.
 */
export const registryItem = z
  .object({
    type: z.literal('registry'),
    hive: z.enum(Object.keys(HIVE_FILES) as [HiveName, ...HiveName[]]),
    key: registryText(4096)
      .min(1)
      .refine(
        (k) => k.split('\\').every((part) => part.length > 0 && part.length <= 255),
        'must be key names separated by single backslashes, each 1-255 characters, without a leading backslash',
      )
      .refine((k) => !/^HKEY_/i.test(k), 'is relative to the hive: leave out HKEY_LOCAL_MACHINE\\<hive>'),
    name: registryText(16383).refine((n) => !n.includes(']'), 'must not contain "]"'),
    valueType: z.enum(REGISTRY_TYPES),
    data: z.union([z.string().max(64 * 1024), z.number().int(), z.array(z.string().max(64 * 1024)).max(1024)]),
  })
  .strict()
  .superRefine((item, ctx) => {
    const problem = registryDataProblem(item.valueType, item.data);
    if (problem) ctx.addIssue({ code: 'custom', path: ['data'], message: problem });
  });

function registryDataProblem(type: (typeof REGISTRY_TYPES)[number], data: string | number | string[]) {
  switch (type) {
    case 'string':
    case 'expand_string':
      return typeof data === 'string' ? undefined : `a ${type} value takes a string`;
    case 'multi_string':
      return Array.isArray(data) && data.every((s) => s !== '' && !s.includes('\0'))
        ? undefined
        : 'a multi_string value takes an array of non-empty strings';
    case 'dword':
      return typeof data === 'number' && data >= 0 && data <= 0xffffffff
        ? undefined
        : 'a dword value takes an integer from 0 to 4294967295';
    case 'qword':
      return typeof data === 'number' && data >= 0 ? undefined : 'a qword value takes a non-negative integer';
    case 'binary':
      return typeof data === 'string' && /^([0-9a-fA-F]{2})*$/.test(data)
        ? undefined
        : 'a binary value takes pairs of hex digits, e.g. "01ff"';
  }
}

export const customizationItem = z.discriminatedUnion('type', [fileItem, replaceItem, registryItem]);
export type CustomizationItem = z.infer<typeof customizationItem>;
export type RegistryItem = z.infer<typeof registryItem>;

/** The file in the image an item changes: its path, or a registry item's hive file. */
export function itemPath(item: CustomizationItem): string {
  return item.type === 'registry' ? HIVE_FILES[item.hive] : item.path;
}

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
