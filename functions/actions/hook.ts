/**
 * Running a hook of the site's agent on a clone (operation kind `hook`, workflow `machine`): against
 * its image while no machine uses it, or against the machine it is active on. The clone is locked
 * meanwhile, like for a lifecycle event. Requests name hooks; the agent's configuration holds the
 * commands, and its heartbeat says which hooks it has.
 */
import type { Deps } from '../deps';
import { BusyError, ConflictError, InvalidInputError } from '../errors';
import { machineRef } from '../events/machine';
import { TransactionConflict } from '../store/db';
import type { AgentInfo, Clone, Site } from '../store/records';
import { revise } from '../store/resources';
import { accept, type Parent } from './accept';
import { hooksOf } from './agents';
import { repoRef } from './views';

export type HookInfo = NonNullable<AgentInfo['hooks']>[number];

/** The hook `name` as the site's agent reported it: 400 when it has none of that name. */
export function hookOf(site: Site, name: string): HookInfo {
  const hooks = hooksOf(site);
  const hook = hooks.find((h) => h.name === name);
  if (!hook)
    throw new InvalidInputError(
      `the agent of site ${site.name} has no hook "${name}" (it has ${hooks.length ? hooks.map((h) => h.name).join(', ') : 'none'}); add it under "hooks" in the agent's configuration and restart the agent`,
      { problems: [`body.hook: unknown hook ${name}`] },
    );
  return hook;
}

export async function runHookAction(deps: Deps, clone: Clone, name: string, parent: Parent) {
  if (clone.lock) throw new BusyError('clone', clone.id, clone.lock);
  const repo = await deps.repositories.require(clone.repository);
  const hook = hookOf(await deps.sites.require(repo.site), name);
  const image = { repository: repoRef(repo), path: clone.path, format: clone.format ?? 'raw' };
  let target: Record<string, unknown>;
  if (hook.on === 'image') {
    if (clone.binding !== 'unassigned' && clone.binding !== 'assigned')
      throw new ConflictError(
        `hook ${name} changes the image of clone ${clone.name}, which is ${clone.binding}: detach it first`,
        {},
      );
    target = { image };
  } else {
    if (clone.binding !== 'active' || !clone.machine)
      throw new ConflictError(`hook ${name} runs on the machine of clone ${clone.name}, which is not active`, {});
    target = { machine: machineRef(await deps.machines.require(clone.machine)) };
  }
  const now = deps.now();
  try {
    return await accept(
      deps,
      undefined,
      {
        workflow: 'machine',
        kind: 'hook',
        resource: { kind: 'clone', id: clone.id, name: clone.name },
        site: repo.site,
        request: { clone: clone.id, hook: name, on: hook.on },
        firstStep: 'hook',
        input: { action: 'hook', input: { hook: name, ...target } },
        parent,
      },
      (op) => [deps.clones.saveWrite(revise(clone, { lock: op.id }, now))],
    );
  } catch (e) {
    if (e instanceof TransactionConflict) throw new BusyError('clone', clone.id, '(another request)');
    throw e;
  }
}
