/**
 * attach, detach, activate and deactivate: the agent works on the clone's machine. attach lets the
 * machine reach the storage, activate powers it on (the first boot makes a clean clone operational).
 */

import { isSecretRef } from '../../statemachines/secrets';
import type { MachineRef } from '../../statemachines/tasks';
import { CredentialNotStoredError, InvalidInputError } from '../errors';
import type { Machine } from '../store/records';
import type { Accepting, EventEntry } from './entry';
import { noBody } from './entry';

type MachineEvent = 'attach' | 'detach' | 'activate' | 'deactivate';

/** A machine as its driver on the agent needs it: its credentials go as references, never as values. */
export const machineRef = (m: Machine): MachineRef => {
  const credentials = m.credentials ?? {};
  const value = Object.keys(credentials).find((key) => !isSecretRef(credentials[key]));
  if (value !== undefined) throw new CredentialNotStoredError(m.name, value);
  return {
    id: m.id,
    name: m.name,
    kind: m.kind,
    identity: m.identity,
    settings: m.settings,
    credentials,
    ...(m.host ? { host: m.host } : {}),
  };
};

async function onMachine({ deps, clone, image }: Accepting, check?: (m: Machine) => void) {
  const machine = await deps.machines.require(clone.machine!);
  check?.(machine);
  return { request: { machine: machine.id }, input: { image, machine: machineRef(machine) } };
}

type OnMachine<E extends MachineEvent> = EventEntry<E, { machine: string }>;

export const attach: OnMachine<'attach'> = {
  body: noBody,
  accept: (a) =>
    onMachine(a, (machine) => {
      if (a.repo.kind === 'iscsi' && !machine.identity.initiatorName)
        throw new InvalidInputError(
          `machine ${machine.name} has no identity.initiatorName, and the clone is on iSCSI storage, which lets in one initiator name; set it with PATCH /v1/machines/${machine.name}`,
        );
    }),
};

export const detach: OnMachine<'detach'> = { body: noBody, accept: (a) => onMachine(a) };

export const activate: OnMachine<'activate'> = {
  body: noBody,
  accept: (a) => onMachine(a),
  // The clone counts its own boots, whichever machines it booted on (the outcome's count is the machine's).
  commit: (e, outcome) => ({ changes: { bootCount: e.clone.bootCount + (outcome.booted ? 1 : 0) } }),
};

export const deactivate: OnMachine<'deactivate'> = { body: noBody, accept: (a) => onMachine(a) };
