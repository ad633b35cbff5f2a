/**
 * A machine's credentials: the API takes their values, the secret store keeps them, and the machine
 * record (so every task input, execution history and agent journal) holds only the reference
 * `secret://<site>/machines/<machine id>/<key>`. A value is written to the store before the record
 * that references it, and a secret is deleted only after the record that stopped referencing it.
 */
import { formatSecretRef, isSecretRef, readSecretRef } from '../../statemachines/secrets';
import type { Deps } from '../deps';
import { fieldPath } from '../domain/field-path';
import { CredentialsOfOtherSiteError } from '../errors';
import type { Machine } from '../store/records';

export const credentialRef = (site: string, machine: string, key: string) =>
  formatSecretRef({ site, id: `machines/${machine}/${key}` });

/** Credentials written to the store ahead of the record write: `refs` go in the record. */
export interface CredentialWrite {
  refs: Record<string, string> | undefined;
  /** After a failed record write: deletes the secrets this write created (a new value of an existing one stays). */
  undo(): Promise<void>;
  /** After the record write: deletes the secrets the record no longer references. */
  commit(): Promise<void>;
}

/** Deletes secrets; one that fails stays behind, named in the log (by reference, never by value). */
async function deleteAll(deps: Deps, refs: Iterable<string>): Promise<void> {
  for (const ref of refs)
    await deps.secrets.delete(ref).catch((e: Error) => console.warn(`secret ${ref} not deleted: ${e.message}`));
}

/**
 * Stores the values in `values` under references of machine `id` on `site`; every other entry must
 * already be a reference (kept from the record). `before` is the record as it was (none when creating).
 */
async function write(
  deps: Deps,
  site: string,
  id: string,
  next: Record<string, string> | undefined,
  values: ReadonlySet<string>,
  before: Record<string, string> = {},
): Promise<CredentialWrite> {
  const refs: Record<string, string> = {};
  const created: string[] = [];
  const undo = () => deleteAll(deps, created);
  try {
    for (const [key, value] of Object.entries(next ?? {})) {
      // A value stored by an earlier version (not a reference) moves into the store on the next write.
      if (!values.has(key) && isSecretRef(value)) {
        refs[key] = value;
        continue;
      }
      const ref = credentialRef(site, id, key);
      if (await deps.secrets.put(ref, value)) created.push(ref);
      refs[key] = ref;
    }
  } catch (e) {
    await undo();
    throw e;
  }
  const kept = new Set(Object.values(refs));
  return {
    refs: next === undefined ? undefined : refs,
    undo,
    commit: () =>
      deleteAll(
        deps,
        Object.values(before).filter((ref) => isSecretRef(ref) && !kept.has(ref)),
      ),
  };
}

/** The credentials of a machine being registered, with their values. */
export function writeNewCredentials(deps: Deps, m: Machine): Promise<CredentialWrite> {
  return write(deps, m.site, m.id, m.credentials, new Set(Object.keys(m.credentials ?? {})));
}

/**
 * The credentials of a patched machine: `next` is the merged result, in which the members that
 * `patch` gave a value hold that value and the others the stored references. A machine that moves
 * to another site must be given its credentials again: the new site's agent cannot read the old
 * site's secrets, and the functions cannot read a secret to copy it.
 */
export function writePatchedCredentials(
  deps: Deps,
  before: Machine,
  next: { site: string; credentials?: Record<string, string> },
  patch: unknown,
): Promise<CredentialWrite> {
  const given = (patch as { credentials?: unknown }).credentials;
  const values = new Set(
    typeof given === 'object' && given !== null
      ? Object.entries(given)
          .filter(([, v]) => typeof v === 'string')
          .map(([k]) => k)
      : [],
  );
  const elsewhere = Object.entries(next.credentials ?? {}).filter(([key, ref]) => {
    if (values.has(key)) return false;
    const parsed = readSecretRef(ref);
    return parsed.ok && parsed.value.site !== next.site;
  });
  if (elsewhere.length)
    throw new CredentialsOfOtherSiteError(
      before.name,
      before.site,
      next.site,
      elsewhere.map(([key]) => fieldPath('body', ['credentials', key])),
    );
  return write(deps, next.site, before.id, next.credentials, values, before.credentials);
}

/** The secrets of a machine that is gone. */
export function deleteCredentials(deps: Deps, m: Machine): Promise<void> {
  return deleteAll(deps, Object.values(m.credentials ?? {}).filter(isSecretRef));
}
