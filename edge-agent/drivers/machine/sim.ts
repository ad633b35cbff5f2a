import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  AlreadyAttachedError,
  BootFailedError,
  DiskNotFoundError,
  MachineStateError,
  NoDiskError,
  PoweredOnError,
} from './errors';
import { describeDisk, sameDisk } from '../disk';
import type { DiskRef, MachineDriver, MachineRef, PowerOnOutcome, PowerState } from './interface';

/** What the simulated machine remembers between agent restarts. */
export interface SimMachineState {
  power: PowerState;
  disk?: DiskRef;
  bootCount: number;
  /** ISO time of the last successful boot. */
  lastBootAt?: string;
}

const FRESH: SimMachineState = { power: 'off', bootCount: 0 };


/**
 * A simulated machine: keeps power, attached disk and boot count in `<stateDir>/sim-<id>.json` and
 * enforces the same preconditions a real machine driver does. `settings.failBoot === true` makes
 * every power-on fail, to exercise failed activations; `settings.bootSeconds` makes a boot take that
 * long, like a real blade.
 */
export class SimMachineDriver implements MachineDriver {
  readonly kind = 'sim';
  private readonly stateDir: string;
  /** Per-machine queue so concurrent calls for one machine never interleave their read-modify-write. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(opts: { stateDir: string }) {
    this.stateDir = opts.stateDir;
  }

  statePath(machine: MachineRef): string {
    // encodeURIComponent turns any `/` into %2F, so the id can never name a file outside stateDir.
    return path.join(this.stateDir, `sim-${encodeURIComponent(machine.id)}.json`);
  }

  /** The full saved state, including what `status` does not report (lastBootAt). */
  async readState(machine: MachineRef): Promise<SimMachineState> {
    const file = this.statePath(machine);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...FRESH };
      throw new MachineStateError(machine.id, file, { cause: err });
    }
    try {
      const state = JSON.parse(text) as SimMachineState;
      if ((state.power !== 'on' && state.power !== 'off') || typeof state.bootCount !== 'number') throw new Error('unexpected shape');
      return state;
    } catch (err) {
      throw new MachineStateError(machine.id, file, { cause: err });
    }
  }

  private async writeState(machine: MachineRef, state: SimMachineState): Promise<void> {
    const file = this.statePath(machine);
    await fs.mkdir(this.stateDir, { recursive: true });
    const tmp = path.join(this.stateDir, `.encompass-tmp-${randomBytes(6).toString('hex')}-${path.basename(file)}`);
    try {
      const fh = await fs.open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  private exclusive<T>(machine: MachineRef, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(machine.id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(machine.id, settled);
    void settled.then(() => {
      if (this.queues.get(machine.id) === settled) this.queues.delete(machine.id);
    });
    return next;
  }

  /** A file disk must exist; a LUN is taken on trust (the simulation has no initiator). */
  private async requireDiskFile(machine: MachineRef, disk: DiskRef): Promise<void> {
    if (disk.kind !== 'file') return;
    const st = await fs.stat(disk.path).catch((err) => {
      throw new DiskNotFoundError(machine.id, disk.path, { cause: err });
    });
    if (!st.isFile()) throw new DiskNotFoundError(machine.id, disk.path);
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
        throw new BootFailedError(machine.id, describeDisk(state.disk), 'simulated boot failure (settings.failBoot is true)');
      }
      // A blade takes a while to boot; `settings.bootSeconds` plays that out.
      const bootSeconds = Number(machine.settings['bootSeconds'] ?? 0);
      if (bootSeconds > 0) await sleep(Math.min(bootSeconds, 3600) * 1000);
      const booted: SimMachineState = { ...state, power: 'on', bootCount: state.bootCount + 1, lastBootAt: new Date().toISOString() };
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
