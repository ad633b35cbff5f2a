/**
 * Power drift corrected (a site whose discovery settings say `power: correct`): the machine is put
 * back to what its clone's binding says, active on and any other binding off, by the agent's power
 * tasks (operation kind `power_correct`, workflow `machine`), the clone locked meanwhile as for a
 * lifecycle event. Started after the discovery's commit; a clone busy with other work is left alone
 * (the next discovery finds the drift again if it is still there).
 */
import { accept } from '../actions/accept';
import { repoRef } from '../actions/views';
import type { Deps } from '../deps';
import { machineRef } from '../events/machine';
import type { OperationKind } from '../operations/kind';
import { outcomeOf } from '../operations/outcome';
import type { Operation } from '../store/records';
import { revise } from '../store/resources';
import type { Reconciled } from './reconcile';

type Drift = Reconciled['drift'][number];

export async function correctPower(deps: Deps, d: Drift, discovery: string): Promise<string | undefined> {
  const [clone, machine] = await Promise.all([deps.clones.get(d.clone), deps.machines.get(d.machine)]);
  if (!clone || !machine || clone.lock || clone.binding !== d.binding || clone.machine !== machine.id) return undefined;
  const repo = await deps.repositories.require(clone.repository);
  const task = d.expected === 'on' ? 'power_on' : 'power_off';
  const image = { repository: repoRef(repo), path: clone.path, format: clone.format ?? 'raw' };
  const now = deps.now();
  const accepted = await accept(
    deps,
    undefined,
    {
      workflow: 'machine',
      kind: 'power_correct',
      resource: { kind: 'machine', id: machine.id, name: machine.name },
      site: machine.site,
      request: { machine: machine.id, clone: clone.id, discovery, expected: d.expected, observed: d.observed },
      firstStep: task,
      input: { action: task, input: { image, machine: machineRef(machine) } },
    },
    (op) => [deps.clones.saveWrite(revise(clone, { lock: op.id }, now))],
  ).catch((e: Error) => {
    console.warn(`discovery ${discovery}: power of machine ${machine.name} not corrected: ${e.message}`);
    return undefined;
  });
  return accepted?.operation;
}

async function unlock(deps: Deps, op: Operation, now: string) {
  const clone = await deps.clones.get(op.request.clone as string);
  return clone?.lock === op.id ? [deps.clones.saveWrite(revise(clone, { lock: undefined }, now))] : [];
}

export const powerCorrectKind: OperationKind = {
  async commit(deps, op, outcome, now) {
    const task = op.request.expected === 'on' ? 'power_on' : 'power_off';
    const o = outcomeOf(task, outcome);
    return { writes: await unlock(deps, op, now), result: { ...op.request, power: o.power } };
  },
  undo: (deps, op, _error, now) => unlock(deps, op, now),
};
