/** attach, detach, power on, power off: the machine side of a clone's life. */
import type { MachineRef } from '../../statemachines/tasks';
import type { Task } from './context';

const accessOf = (m: MachineRef) => ({ machine: m.id, initiatorName: m.identity.initiatorName });

/** Storage first lets the machine in (an initiator ACL on a LUN), then the machine gets the disk. */
export const attach: Task<'attach'> = async (input, ctx) => {
  const { image, machine } = input;
  const access = accessOf(machine);
  const disk = await ctx.drivers.storage(image.repository.kind).export(image.repository, image.path, access);
  await ctx.exports.add({ repository: image.repository, path: image.path, access });
  await ctx.drivers.machine(machine.kind).attach(machine, disk);
  return { attached: machine.id, disk };
};

/** The reverse order: the machine lets go of the disk, then storage shuts the machine out. */
export const detach: Task<'detach'> = async (input, ctx) => {
  const { image, machine } = input;
  await ctx.drivers.machine(machine.kind).detach(machine);
  const access = accessOf(machine);
  await ctx.drivers.storage(image.repository.kind).unexport(image.repository, image.path, access);
  await ctx.exports.remove({ repository: image.repository, path: image.path, access });
  return { detached: machine.id };
};

export const powerOn: Task<'power_on'> = async (input, ctx) => {
  const { machine } = input;
  ctx.report(0.1, 'power_on');
  const out = await ctx.drivers.machine(machine.kind).powerOn(machine);
  return { ...out };
};

export const powerOff: Task<'power_off'> = async (input, ctx) => {
  const { machine } = input;
  return { ...(await ctx.drivers.machine(machine.kind).powerOff(machine)) };
};
