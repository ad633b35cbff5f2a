/** Sites, repositories, machines and tokens: the inventory an operator or admin keeps. */
import type { z } from 'zod';
import type { Principal } from '../auth/principal';
import { actorOf } from '../auth/principal';
import type { Deps } from '../deps';
import type { createMachine, createSite, createToken } from '../domain/schemas';
import { InUseError, LastAdminError, NotFoundError } from '../errors';
import { type Kind, newId } from '../store/ids';
import type { Base, Machine, Site } from '../store/records';
import { deleteCredentials, writeNewCredentials } from './machine-credentials';
import { checkMacsFree } from './machine-macs';
import { machineView } from './views';

/** The fields every new named record starts with. */
export function base(kind: Kind, name: string, now: string): Base {
  return { id: newId(kind), name, rev: 1, createdAt: now, updatedAt: now };
}

/** Creates the site and its Step Functions activity and state machines. */
export async function createSiteAction(deps: Deps, body: z.infer<typeof createSite>) {
  const site: Site = { ...base('site', body.name, deps.now()), description: body.description };
  await deps.workflows.provisionSite(site.name);
  return deps.sites.create(site);
}

/** Deletes a site that holds no repository and no machine, with its activity and state machines. */
export async function deleteSiteAction(deps: Deps, ref: string) {
  const site = await deps.sites.require(ref);
  const [repositories, machines] = await Promise.all([deps.repositories.listAll(), deps.machines.listAll()]);
  const users = [...repositories, ...machines].filter((x) => x.site === site.name);
  if (users.length)
    throw new InUseError(`site ${site.name} still has ${users.length} repositories or machines; delete them first`, {
      resources: users.map((u) => u.id),
    });
  await deps.db.transact(deps.sites.deleteWrites(site));
  await deps.workflows.removeSite(site.name, Object.keys(site.agents ?? {}));
  return { deleted: site.id };
}

export async function createMachineAction(deps: Deps, body: z.infer<typeof createMachine>) {
  const site = await deps.sites.require(body.site);
  const m: Machine = { ...base('machine', body.name, deps.now()), ...body, site: site.name };
  await checkMacsFree(deps, m);
  const credentials = await writeNewCredentials(deps, m);
  try {
    await deps.machines.create({ ...m, ...(credentials.refs ? { credentials: credentials.refs } : {}) });
  } catch (e) {
    await credentials.undo();
    throw e;
  }
  return machineView(m);
}

export async function deleteMachine(deps: Deps, ref: string) {
  const m = await deps.machines.require(ref);
  if (m.clone)
    throw new InUseError(`machine ${m.name} carries clone ${m.clone}; unassign it first`, { clone: m.clone });
  await deps.db.transact(deps.machines.deleteWrites(m));
  await deleteCredentials(deps, m);
  return { deleted: m.id };
}

export async function deleteRepository(deps: Deps, ref: string) {
  const r = await deps.repositories.require(ref);
  const [masters, clones] = await Promise.all([deps.masters.listAll(), deps.clones.listAll()]);
  const users = [...masters, ...clones.filter((c) => c.status !== 'destroyed' && c.status !== 'captured')].filter(
    (x) => x.repository === r.id,
  );
  if (users.length)
    throw new InUseError(`repository ${r.name} still holds ${users.length} image(s); remove them first`, {
      images: users.map((u) => u.id),
    });
  await deps.db.transact([...deps.repositories.deleteWrites(r), deps.checks.deleteWrite(r.id)]);
  return { deleted: r.id };
}

/** An agent token names its site by name, whichever reference the request gave. */
export async function createTokenAction(deps: Deps, p: Principal | undefined, body: z.infer<typeof createToken>) {
  const site = body.site ? (await deps.sites.require(body.site)).name : undefined;
  const { secret, record } = await deps.tokens.create(
    { ...body, ...(site ? { site } : {}), createdBy: actorOf(p) },
    deps.now(),
  );
  return { token: secret, ...record };
}

export async function revokeToken(deps: Deps, id: string) {
  const outcome = await deps.tokens.revoke(id);
  if (outcome === 'not_found') throw new NotFoundError('token', id);
  if (outcome === 'last_admin') throw new LastAdminError(id);
  return { revoked: id };
}
