/**
 * Template secrets: the values a customization template names as `${secret:NAME}` (a sysprep answer
 * file's administrator or domain-join password). An admin puts one per site; the secret store keeps it
 * under `secret://<site>/templates/<NAME>`, which only that site's agent reads, when it applies the
 * item. The API never answers a value, and no record, workflow input or journal holds one.
 */
import { SECRET_NAME, templateSecretRef } from '../../statemachines/customization';
import type { Deps } from '../deps';
import { InvalidInputError } from '../errors';

function refOf(site: string, name: string): string {
  if (!SECRET_NAME.test(name))
    throw new InvalidInputError(
      `secret name "${name}" is not usable: give 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit, as in \${secret:local-admin}`,
      { name },
    );
  return templateSecretRef(site, name);
}

/** Sets (or creates) the site's template secret `name`. */
export async function putTemplateSecret(deps: Deps, siteRef: string, name: string, value: string) {
  const site = await deps.sites.require(siteRef);
  const secret = refOf(site.name, name);
  const created = await deps.secrets.put(secret, value);
  return { site: site.name, name, secret, created };
}

/** Deletes the site's template secret `name`; deleting one that is not there is no error. */
export async function deleteTemplateSecret(deps: Deps, siteRef: string, name: string) {
  const site = await deps.sites.require(siteRef);
  const secret = refOf(site.name, name);
  await deps.secrets.delete(secret);
  return { deleted: secret };
}
