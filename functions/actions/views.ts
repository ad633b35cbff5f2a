/** What the API shows of stored records: never credentials, never internal keys. */

import { allowedEvents } from '../../statemachines/lifecycle';
import type { Deps } from '../deps';
import { clonesOf, versionsOf } from '../deps';
import { cloneState } from '../events/plan';
import { stateOf } from '../scenarios/machine-state';
import { itemCount } from '../store/customizations';
import type { Clone, Machine, Master, Repository } from '../store/records';

/** What the API shows of a credential: that it is set. Sent back in a PATCH, it keeps the credential as it is. */
export const CREDENTIAL_SET = '(set)';

export function machineView(m: Machine) {
  const { credentials, ...rest } = m;
  return {
    ...rest,
    state: stateOf(m),
    credentials: credentials ? Object.fromEntries(Object.keys(credentials).map((k) => [k, CREDENTIAL_SET])) : {},
  };
}

export function cloneView(c: Clone) {
  // The items themselves are in the clone's customization document, not in its record.
  const total = itemCount(c);
  return {
    ...c,
    customization: { ...c.customization, total, pending: total - c.customization.applied },
    events: c.status === 'ready' && !c.lock ? allowedEvents(cloneState(c)) : [],
  };
}

export async function masterView(deps: Deps, m: Master) {
  const [clones, versions] = await Promise.all([
    deps.clones.children(clonesOf(m.id)),
    deps.masters.children(versionsOf(m.id)),
  ]);
  return {
    ...m,
    clones: clones
      .filter((c) => c.status !== 'destroyed')
      .map((c) => ({ id: c.id, name: c.name, status: c.status, metastate: c.metastate, binding: c.binding })),
    children: versions.map((v) => ({ id: v.id, name: v.name, version: v.version })),
  };
}

/** A repository as the agent needs it in a task. */
export const repoRef = (r: Repository) => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  path: r.path,
  settings: r.settings ?? {},
  ...(r.host ? { host: r.host } : {}),
});
