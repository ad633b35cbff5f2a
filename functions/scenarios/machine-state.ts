/**
 * A machine's `state`: ready (absent means ready), reserved by a deployment, quarantined after a
 * deployment failed on it, discovered (found by a discovery, not adopted yet) or missing (discoveries
 * no longer find it). Only the deployment that reserved a machine may assign a clone to it; a
 * quarantined machine takes nothing until an operator releases it.
 */
import type { Deps } from '../deps';
import { MachineMissingError, MachineNotAdoptedError } from '../discovery/errors';
import type { Machine, MachineState } from '../store/records';
import { revise } from '../store/resources';
import { MachineNotQuarantinedError, MachineQuarantinedError, MachineReservedError } from './errors';

export const stateOf = (m: Machine): MachineState => m.state ?? 'ready';

/** Free for a new deployment: ready and carrying no clone. */
export const isFree = (m: Machine) => stateOf(m) === 'ready' && !m.clone;

export function checkMachineUsable(m: Machine, deployment?: string): void {
  const state = stateOf(m);
  if (state === 'discovered') throw new MachineNotAdoptedError(m.name);
  if (state === 'missing') throw new MachineMissingError(m.name, m.presence?.missingSince);
  if (state === 'quarantined')
    throw new MachineQuarantinedError(m.name, m.quarantine?.error.message ?? 'no reason kept');
  if (state === 'reserved' && m.reservation !== deployment)
    throw new MachineReservedError(m.name, m.reservation ?? '?');
}

/** The machine as ready again: its reservation or quarantine dropped. */
export function readied(m: Machine, now: string): Machine {
  return revise<Machine>(m, { state: 'ready', reservation: undefined, quarantine: undefined }, now);
}

/** `POST /v1/machines/{id}/release`: a quarantined machine becomes ready. */
export async function releaseMachineAction(deps: Deps, ref: string) {
  const m = await deps.machines.require(ref);
  if (stateOf(m) !== 'quarantined') throw new MachineNotQuarantinedError(m.name, stateOf(m));
  const ready = readied(m, deps.now());
  await deps.machines.save(ready);
  return ready;
}
