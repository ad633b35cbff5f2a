/** One driver call on one machine: its record as read, its connection once opened, and saving what changed. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DiskRef, MachineRef, PowerState } from '../interface';
import type { MachineRecord, MachineRecordStore } from './machine-record';
import type { MachineProtocol } from './protocol';

/** How often a wait for a power state asks again. */
const POLL_MS = 500;

export class MachineCall<C, R extends MachineRecord> {
  private opened?: Promise<C>;
  /** The record as last read or written, to tell whether a protocol step changed it. */
  private stored: string;

  constructor(
    readonly machine: MachineRef,
    public record: R,
    private readonly store: MachineRecordStore<R>,
    private readonly protocol: MachineProtocol<C, R>,
  ) {
    this.stored = JSON.stringify(record);
  }

  /** The protocol's connection, opened on first use: a call that needs only the record never reaches the machine. */
  connection(): Promise<C> {
    this.opened ??= this.protocol.open(this.machine);
    return this.opened;
  }

  /** Closes the connection if this call opened one; a connection that failed to open needs none. */
  async close(): Promise<void> {
    if (!this.opened || !this.protocol.close) return;
    const c = await this.opened.catch(() => undefined);
    if (c !== undefined) await this.protocol.close(c);
  }

  /** Writes `record` when it differs from what is stored. */
  async save(record: R = this.record): Promise<void> {
    this.record = record;
    const text = JSON.stringify(record);
    if (text === this.stored) return;
    await this.store.write(this.machine, record);
    this.stored = text;
  }

  /** Runs a protocol method that may change the record in place, and saves what it changed. */
  async step<T>(work: (c: C, record: R) => Promise<T>): Promise<T> {
    const out = await work(await this.connection(), this.record);
    await this.save();
    return out;
  }

  /** On, or between states (which still holds the disk). */
  async isOn(): Promise<boolean> {
    return (await this.protocol.power(await this.connection(), this.record)) !== 'off';
  }

  /** The disk the machine holds, or the one the record holds for it. */
  async disk(): Promise<DiskRef | undefined> {
    return this.protocol.disk ? this.protocol.disk.attached(await this.connection()) : this.record.disk;
  }

  /** True once the machine reports `wanted` (not a state between), false when `until` passed first. */
  async reaches(wanted: PowerState, until: number): Promise<boolean> {
    for (;;) {
      if ((await this.protocol.power(await this.connection(), this.record)) === wanted) return true;
      if (Date.now() >= until) return false;
      await sleep(Math.min(POLL_MS, Math.max(0, until - Date.now())));
    }
  }
}
