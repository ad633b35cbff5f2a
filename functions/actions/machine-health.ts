/**
 * A machine's health check (operation kind `health_check`, workflow `machine`): the agent tries the
 * check until it passes or its time is up. A scenario runs one after each activation it makes, and
 * an operator can ask for one at any time (`POST /v1/machines/{id}/health-check`).
 */
import type { HealthCheck } from '../../statemachines/tasks';
import type { Principal } from '../auth/principal';
import type { Deps } from '../deps';
import { machineRef } from '../events/machine';
import { type Accepted, accept, type Parent } from './accept';

export async function checkHealthAction(
  deps: Deps,
  p: Principal | undefined,
  ref: string,
  check: HealthCheck,
  parent?: Parent,
): Promise<Accepted> {
  const machine = await deps.machines.require(ref);
  return accept(
    deps,
    p,
    {
      workflow: 'machine',
      kind: 'health_check',
      resource: { kind: 'machine', id: machine.id, name: machine.name },
      site: machine.site,
      request: { machine: machine.id, check },
      firstStep: 'health',
      input: { action: 'health_check', input: { machine: machineRef(machine), check } },
      ...(parent ? { parent } : {}),
    },
    () => [],
  );
}
