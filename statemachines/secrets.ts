/**
 * References to secrets: what a record, a workflow input, a journal line or a log carries instead of a
 * credential. Only the code that uses a secret resolves its reference, in memory (STYLE.md habit 15).
 *
 * Glossary
 * - reference: `secret://<site>/<id>`, e.g. `secret://dc2/machines/blade-1/bmc`.
 * - site: the site that owns the secret (the API's site-name rule); its agent may read only its own site's.
 * - id: one or more `/`-separated segments naming the secret inside its site.
 * - name: the Secrets Manager name a reference maps to, `<prefix><site>/<id>`; the prefix is
 *   `encompass/` unless a deployment passes another one (`ENCOMPASS_SECRETS_PREFIX`).
 *
 * Pure and web-standard: the functions, the agent and the infrastructure all import it.
 */
import { z } from 'zod';

export const SECRET_REF_SCHEME = 'secret://';
/** Where every ENCOMPASS secret lives in Secrets Manager; IAM grants are written against it. */
export const SECRETS_PREFIX = 'encompass/';

export interface SecretRef {
  site: string;
  id: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** The API's site-name rule (functions/domain/paths.ts NAME_PATTERN), repeated here: statemachines/ imports neither side. */
const SITE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Keeps `<prefix><site>/<id>` well inside Secrets Manager's 512-character names. */
const MAX_ID = 256;
/** A Secrets Manager name prefix: `/`-terminated segments of the characters names allow. */
const PREFIX = /^([A-Za-z0-9_+=.@-]+\/)+$/;

const SITE_RULE = '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';
const ID_RULE = `"/"-separated segments of ${SITE_RULE}, at most ${MAX_ID} characters in all`;

function checkSite(site: string): string | undefined {
  return SITE.test(site) ? undefined : `site "${site}" is not a site name (${SITE_RULE})`;
}

function checkId(id: string): string | undefined {
  if (id.length === 0) return `the id is empty; give ${ID_RULE}`;
  if (id.length > MAX_ID) return `the id is ${id.length} characters long; give ${ID_RULE}`;
  const bad = id.split('/').find((segment) => !SEGMENT.test(segment));
  return bad === undefined ? undefined : `id "${id}" has the segment "${bad}"; give ${ID_RULE}`;
}

function checkPrefix(prefix: string): void {
  // A wrong prefix is a deployment bug, not an input: failing loudly beats resolving the wrong secret.
  if (!PREFIX.test(prefix)) throw new TypeError(`secrets prefix "${prefix}" must be "/"-terminated, e.g. "encompass/"`);
}

/** Checks the parts of a reference; the problem says what is wrong and what to give instead. */
export function checkSecretRef(ref: SecretRef): Checked<SecretRef> {
  const problem = checkSite(ref.site) ?? checkId(ref.id);
  return problem === undefined ? { ok: true, value: { site: ref.site, id: ref.id } } : { ok: false, problem };
}

/** Reads `secret://<site>/<id>`. */
export function readSecretRef(text: string): Checked<SecretRef> {
  if (!text.startsWith(SECRET_REF_SCHEME))
    return { ok: false, problem: `"${text}" is not a secret reference; write ${SECRET_REF_SCHEME}<site>/<id>` };
  const rest = text.slice(SECRET_REF_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0)
    return { ok: false, problem: `"${text}" names no id after the site; write ${SECRET_REF_SCHEME}<site>/<id>` };
  return checkSecretRef({ site: rest.slice(0, slash), id: rest.slice(slash + 1) });
}

export function isSecretRef(value: unknown): value is string {
  return typeof value === 'string' && readSecretRef(value).ok;
}

/** Writes a reference; throws a TypeError on parts that `checkSecretRef` refuses (a programming error). */
export function formatSecretRef(ref: SecretRef): string {
  const checked = checkSecretRef(ref);
  if (!checked.ok) throw new TypeError(checked.problem);
  return `${SECRET_REF_SCHEME}${ref.site}/${ref.id}`;
}

/** The Secrets Manager names of one site's secrets start with this (the agent role's grant). */
export function siteSecretsPrefix(site: string, prefix = SECRETS_PREFIX): string {
  checkPrefix(prefix);
  const problem = checkSite(site);
  if (problem) throw new TypeError(problem);
  return `${prefix}${site}/`;
}

/** The Secrets Manager name of a reference: `encompass/<site>/<id>`. */
export function secretName(ref: SecretRef, prefix = SECRETS_PREFIX): string {
  const checked = checkSecretRef(ref);
  if (!checked.ok) throw new TypeError(checked.problem);
  return `${siteSecretsPrefix(ref.site, prefix)}${ref.id}`;
}

/** The reference of a Secrets Manager name, for names under the prefix only. */
export function secretRefOfName(name: string, prefix = SECRETS_PREFIX): Checked<SecretRef> {
  checkPrefix(prefix);
  if (!name.startsWith(prefix))
    return { ok: false, problem: `secret name "${name}" is not under "${prefix}"; it is not an ENCOMPASS secret` };
  return readSecretRef(`${SECRET_REF_SCHEME}${name.slice(prefix.length)}`);
}

/** A reference at a boundary (API body, task input, record): a string that `readSecretRef` accepts. */
export const secretRefSchema = z.string().superRefine((text, ctx) => {
  const checked = readSecretRef(text);
  if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.problem });
});
