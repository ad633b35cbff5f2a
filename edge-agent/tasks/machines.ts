/** attach, detach, power on, power off: the machine side of a clone's life. */
import type { MachineRef } from '../drivers/machine/interface';
import type { ImageInput, Task } from './context';

interface MachineInput {
  image: ImageInput;
  machine: MachineRef;
}

export const attach: Task = async (input, ctx) => {
  const { image, machine } = input as unknown as MachineInput;
  const path = await ctx.drivers.storage(image.repository.kind).resolve(image.repository, image.path, true);
  await ctx.drivers.machine(machine.kind).attach(machine, { path, format: image.format ?? 'raw' });
  return { attached: machine.id };
};

export const detach: Task = async (input, ctx) => {
  const { machine } = input as unknown as MachineInput;
  await ctx.drivers.machine(machine.kind).detach(machine);
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
