/**
 * attach, detach, power on, power off: the machine side of a clone's life. The task carries the
 * machine's credentials as references; each is resolved here, in memory, for the driver's call only.
 */
import type { MachineRef } from '../../statemachines/tasks';
import { withCredentials } from '../secrets';
import type { Task, TaskContext } from './context';

const accessOf = (m: MachineRef) => ({ machine: m.id, initiatorName: m.identity.initiatorName });

/** The machine's driver and the machine with its credentials resolved. */
export async function onMachine(machine: MachineRef, ctx: TaskContext) {
  return { driver: ctx.drivers.machine(machine.kind), machine: await withCredentials(machine, ctx.secrets) };
}

/** Storage first lets the machine in (an initiator ACL on a LUN), then the machine gets the disk. */
export const attach: Task<'attach'> = async (input, ctx) => {
  const { image } = input;
  const { driver, machine } = await onMachine(input.machine, ctx);
  const access = accessOf(machine);
  const disk = await ctx.drivers.storage(image.repository.kind).export(image.repository, image.path, access);
  await ctx.exports.add({ repository: image.repository, path: image.path, access });
  await driver.attach(machine, disk);
  return { attached: machine.id, disk };
};

/** The reverse order: the machine lets go of the disk, then storage shuts the machine out. */
export const detach: Task<'detach'> = async (input, ctx) => {
  const { image } = input;
  const { driver, machine } = await onMachine(input.machine, ctx);
  await driver.detach(machine);
  const access = accessOf(machine);
  await ctx.drivers.storage(image.repository.kind).unexport(image.repository, image.path, access);
  await ctx.exports.remove({ repository: image.repository, path: image.path, access });
  return { detached: machine.id };
};

export const powerOn: Task<'power_on'> = async (input, ctx) => {
  const { driver, machine } = await onMachine(input.machine, ctx);
  ctx.report(0.1, 'power_on');
  return { ...(await driver.powerOn(machine)) };
};

export const powerOff: Task<'power_off'> = async (input, ctx) => {
  const { driver, machine } = await onMachine(input.machine, ctx);
  return { ...(await driver.powerOff(machine)) };
};
