import { setTimeout as sleep } from 'node:timers/promises';
import { describeDisk, sameDisk } from '../disk';
import { MachineRecordStore, requireDiskFile } from './common/machine-record';
import { AlreadyAttachedError, BootFailedError, NoDiskError, PoweredOnError } from './errors';
import type { DiskRef, MachineDriver, MachineRef, PowerOnOutcome, PowerState } from './interface';

/** What the simulated machine remembers between agent restarts. */
export interface SimMachineState {
  power: PowerState;
  disk?: DiskRef;
  bootCount: number;
  /** ISO time of the last successful boot. */
  lastBootAt?: string;
}

/**
 * A simulated machine: keeps power, attached disk and boot count in `<stateDir>/sim-<id>.json` and
 * enforces the same preconditions a real machine driver does. `settings.failBoot === true` makes
 * every power-on fail, to exercise failed activations; `settings.bootSeconds` makes a boot take that
 * long, like a real blade.
 */
export class SimMachineDriver implements MachineDriver {
  readonly kind = 'sim';
  /** One state file per machine; calls for one machine are queued so read-modify-writes never interleave. */
  private readonly store: MachineRecordStore<SimMachineState>;

  constructor(opts: { stateDir: string }) {
    this.store = new MachineRecordStore<SimMachineState>(opts.stateDir, 'sim', {
      fresh: () => ({ power: 'off', bootCount: 0 }),
      valid: (s) => (s.power === 'on' || s.power === 'off') && typeof s.bootCount === 'number',
    });
  }

  statePath(machine: MachineRef): string {
    return this.store.pathOf(machine);
  }

  /** The full saved state, including what `status` does not report (lastBootAt). */
  readState(machine: MachineRef): Promise<SimMachineState> {
    return this.store.read(machine);
  }

  private writeState(machine: MachineRef, state: SimMachineState): Promise<void> {
    return this.store.write(machine, state);
  }

  private exclusive<T>(machine: MachineRef, work: () => Promise<T>): Promise<T> {
    return this.store.exclusive(machine, work);
  }

  /** A file disk must exist; a LUN is taken on trust (the simulation has no initiator). */
  private requireDiskFile(machine: MachineRef, disk: DiskRef): Promise<void> {
    return requireDiskFile(machine.id, disk);
  }

  attach(machine: MachineRef, disk: DiskRef): Promise<void> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.disk) {
        if (sameDisk(state.disk, disk)) return;
        throw new AlreadyAttachedError(machine.id, describeDisk(state.disk), describeDisk(disk));
      }
      await this.requireDiskFile(machine, disk);
      await this.writeState(machine, { ...state, disk });
    });
  }

  detach(machine: MachineRef): Promise<void> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.power === 'on') throw new PoweredOnError(machine.id, 'detached');
      if (!state.disk) return;
      const { disk: _detached, ...rest } = state;
      await this.writeState(machine, rest);
    });
  }

  powerOn(machine: MachineRef): Promise<PowerOnOutcome> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.power === 'on') return { power: 'on', booted: true, bootCount: state.bootCount };
      if (!state.disk) throw new NoDiskError(machine.id);
      // A real machine finds out only at boot that its disk vanished; so does the simulation.
      await this.requireDiskFile(machine, state.disk);
      if (machine.settings['failBoot'] === true) {
        // The failed machine is left off so the lifecycle can detach and roll back without a power cycle.
        throw new BootFailedError(
          machine.id,
          describeDisk(state.disk),
          'simulated boot failure (settings.failBoot is true)',
        );
      }
      // A blade takes a while to boot; `settings.bootSeconds` plays that out.
      const bootSeconds = Number(machine.settings['bootSeconds'] ?? 0);
      if (bootSeconds > 0) await sleep(Math.min(bootSeconds, 3600) * 1000);
      const booted: SimMachineState = {
        ...state,
        power: 'on',
        bootCount: state.bootCount + 1,
        lastBootAt: new Date().toISOString(),
      };
      await this.writeState(machine, booted);
      return { power: 'on', booted: true, bootCount: booted.bootCount };
    });
  }

  powerOff(machine: MachineRef): Promise<{ power: PowerState }> {
    return this.exclusive(machine, async () => {
      const state = await this.readState(machine);
      if (state.power === 'on') await this.writeState(machine, { ...state, power: 'off' });
      return { power: 'off' };
    });
  }

  async status(machine: MachineRef): Promise<{ power: PowerState; disk?: DiskRef; bootCount: number }> {
    const { power, disk, bootCount } = await this.readState(machine);
    return disk ? { power, disk, bootCount } : { power, bootCount };
  }
}
