/**
 * A simulated machine: a fake, not a no-op. Its power lives in its record (`<stateDir>/sim-<id>.json`,
 * beside the disk and boot count), and the harness holds it to the same preconditions as a real
 * machine. `settings.failBoot === true` makes every power-on fail, to exercise failed activations;
 * `settings.bootSeconds` makes a boot take that long, like a real blade, and `settings.attachSeconds`
 * an attach, like virtual media mounted through a slow BMC. `settings.console` is what its serial
 * console shows while it is on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk } from '../disk';
import { MachineHarness } from './common/harness';
import type { MachineRecord } from './common/machine-record';
import type { MachineProtocol } from './common/protocol';
import { BootFailedError } from './errors';
import type { DiskRef, MachineRef, PowerState } from './interface';

/** What the simulated machine remembers between agent restarts. */
export interface SimMachineState extends MachineRecord {
  power: PowerState;
}

const simulation: MachineProtocol<MachineRef, SimMachineState> = {
  kind: 'sim',
  powerHint: { who: 'The simulation of machine', check: 'Delete its state file to reset it to off.' },
  record: {
    fresh: () => ({ power: 'off', bootCount: 0 }),
    valid: (s) => (s.power === 'on' || s.power === 'off') && typeof s.bootCount === 'number',
  },
  open: async (machine) => machine,
  // Power changes at once: nothing to confirm, no operating system to wait for.
  settings: () => ({ confirmOffMs: 0, shutdownGraceMs: 0 }),
  power: async (_machine, state) => state.power,

  async powerOn(machine, disk, state) {
    if (machine.settings['failBoot'] === true)
      throw new BootFailedError(machine.id, describeDisk(disk), 'simulated boot failure (settings.failBoot is true)');
    const bootSeconds = Number(machine.settings['bootSeconds'] ?? 0);
    if (bootSeconds > 0) await sleep(Math.min(bootSeconds, 3600) * 1000);
    state.power = 'on';
  },
  async softOff(_machine, state) {
    state.power = 'off';
    return undefined;
  },
  async forceOff(_machine, state) {
    state.power = 'off';
  },
};

export class SimMachineDriver extends MachineHarness<MachineRef, SimMachineState> {
  constructor(opts: { stateDir: string }) {
    super(simulation, opts);
  }

  override async attach(machine: MachineRef, disk: DiskRef): Promise<void> {
    const attachSeconds = Number(machine.settings['attachSeconds'] ?? 0);
    if (attachSeconds > 0) await sleep(Math.min(attachSeconds, 3600) * 1000);
    return super.attach(machine, disk);
  }

  override async console(machine: MachineRef): Promise<string> {
    const { power } = await this.status(machine);
    return power === 'on' ? String(machine.settings['console'] ?? '') : '';
  }
}
