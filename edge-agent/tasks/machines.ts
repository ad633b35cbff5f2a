/** attach, detach, power on, power off: the machine side of a clone's life. */
import type { MachineRef } from '../drivers/machine/interface';
import type { ImageInput, Task } from './context';

interface MachineInput {
  image: ImageInput;
  machine: MachineRef;
}

const accessOf = (m: MachineRef) => ({ machine: m.id, initiatorName: m.identity.initiatorName });

/** Storage first lets the machine in (an initiator ACL on a LUN), then the machine gets the disk. */
export const attach: Task = async (input, ctx) => {
  const { image, machine } = input as unknown as MachineInput;
  const access = accessOf(machine);
  const disk = await ctx.drivers.storage(image.repository.kind).export(image.repository, image.path, access);
  await ctx.exports.add({ repository: image.repository, path: image.path, access });
  await ctx.drivers.machine(machine.kind).attach(machine, disk);
  return { attached: machine.id, disk };
};

/** The reverse order: the machine lets go of the disk, then storage shuts the machine out. */
export const detach: Task = async (input, ctx) => {
  const { image, machine } = input as unknown as MachineInput;
  await ctx.drivers.machine(machine.kind).detach(machine);
  const access = accessOf(machine);
  await ctx.drivers.storage(image.repository.kind).unexport(image.repository, image.path, access);
  await ctx.exports.remove({ repository: image.repository, path: image.path, access });
  return { detached: machine.id };
};

export const powerOn: Task = async (input, ctx) => {
  const { machine } = input as unknown as MachineInput;
  ctx.report(0.1, 'power_on');
  const out = await ctx.drivers.machine(machine.kind).powerOn(machine);
  return { ...out };
};

export const powerOff: Task = async (input, ctx) => {
  const { machine } = input as unknown as MachineInput;
  return { ...(await ctx.drivers.machine(machine.kind).powerOff(machine)) };
};
