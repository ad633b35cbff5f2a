/** assign binds a clone to a free machine that meets its master's requirements, customizing it; unassign frees it. */
import { z } from 'zod';
import { unmetRequirements } from '../domain/requirements';
import { items, ref, variables } from '../domain/schemas';
import { checkReach } from '../domain/topology';
import { InvalidInputError, MachineTakenError, RequirementsNotMetError } from '../errors';
import { checkMachineUsable } from '../scenarios/machine-state';
import type { Write } from '../store/db';
import type { Machine } from '../store/records';
import { revise } from '../store/resources';
import { type CustomizationPlan, customizationAfter, discardDocument, planCustomization } from './customization';
import type { Ending, EventEntry } from './entry';
import { noBody } from './entry';

type AssignPlan = CustomizationPlan & { machine: string };

/** Bindings a machine's record keeps, newest last; older ones are in the audit log. */
export const MACHINE_HISTORY = 50;

/** Lets go of the machine, if it is still bound to this clone; its history notes when (`unassigned`). */
async function releaseMachine(e: Ending<unknown>, id: string | undefined, unassigned = false): Promise<Write[]> {
  const m = id ? await e.deps.machines.get(id) : undefined;
  if (m?.clone !== e.clone.id) return [];
  const history = unassigned
    ? (m.history ?? []).map((h) => (h.clone === e.clone.id && !h.to ? { ...h, to: e.now } : h))
    : m.history;
  return [e.deps.machines.saveWrite(revise<Machine>(m, { clone: undefined, history }, e.now))];
}

/** The machine's history with this clone's binding begun now. */
async function boundWrites(e: Ending<unknown>, id: string): Promise<Write[]> {
  const m = await e.deps.machines.get(id);
  if (m?.clone !== e.clone.id) return [];
  const entry = { clone: e.clone.id, cloneName: e.clone.name, from: e.now, operation: e.op.id };
  const history = [...(m.history ?? []), entry].slice(-MACHINE_HISTORY);
  return [e.deps.machines.saveWrite(revise<Machine>(m, { history }, e.now))];
}

const assignBody = z
  .object({
    machine: ref,
    customization: z.object({ items: items.optional(), variables: variables.optional() }).strict().optional(),
  })
  .strict();

export const assign: EventEntry<'assign', AssignPlan, z.infer<typeof assignBody>> = {
  body: assignBody,
  async accept(a, body) {
    const { deps, clone, repo } = a;
    const machine = await deps.machines.require(body.machine);
    if (machine.site !== repo.site)
      throw new InvalidInputError(
        `machine ${machine.name} is on site ${machine.site}, the clone on site ${repo.site}; pick a machine of the clone's site`,
      );
    if (machine.clone) throw new MachineTakenError(machine.name, machine.clone);
    checkMachineUsable(machine, a.parent?.deployment);
    const master = await deps.masters.require(clone.master);
    const unmet = unmetRequirements(master.requirements, machine);
    if (unmet.length) throw new RequirementsNotMetError(machine.name, unmet);
    await checkReach(deps, machine, repo);
    // A clone that has booted holds state of its own: it is bound as it is, never customized again.
    if (clone.metastate !== 'clean' && body.customization)
      throw new InvalidInputError(
        `clone ${clone.name} is ${clone.metastate}: it is bound as it is and cannot be customized again; leave out "customization"`,
        { problems: ['body.customization: only a clean clone is customized'] },
      );
    const { request, input, discard } = await planCustomization(
      a,
      {
        ...body.customization,
        variablesAt: 'body.customization.variables',
        to: clone.metastate === 'clean' ? undefined : clone.customization.applied,
      },
      { machine: machine.id },
    );
    return { request: { ...request, machine: machine.id }, input, reserve: machine, discard };
  },
  async commit(e, outcome) {
    const { customization, after } = customizationAfter(e, outcome);
    return {
      changes: { machine: e.request.machine, customization },
      writes: await boundWrites(e, e.request.machine),
      after,
    };
  },
  async undo(e) {
    await discardDocument(e);
    return releaseMachine(e, e.request.machine);
  },
};

export const unassign: EventEntry<'unassign'> = {
  body: noBody,
  accept: () => ({ request: {}, input: {} }),
  commit: async (e) => ({ changes: { machine: undefined }, writes: await releaseMachine(e, e.clone.machine, true) }),
};
