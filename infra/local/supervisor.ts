/**
 * Keeps one child of the stack running. A child that dies on its own is started again after a
 * back-off that doubles with every attempt (0.5 s up to 30 s) and starts over once a run has lasted a
 * minute, so a crash costs a moment and a crash loop does not eat the host. The stack keeps serving
 * meanwhile: callers that need the child wait for it with `ready()`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildNotRunningError } from './errors';

/** What a supervised child is: a process that ends, and can be asked to. */
export interface Running {
  pid: number;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface Backoff {
  firstMs: number;
  maxMs: number;
  /** A run this long resets the back-off to `firstMs`. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 500, maxMs: 30_000, stableMs: 60_000 };

export interface SupervisorOptions<T extends Running> {
  name: string;
  /** Starts the child and resolves once it is ready (rejects if it cannot start). */
  launch: () => Promise<T>;
  log: (line: string) => void;
  /** Called with every instance once it is ready, the first one included; `restarts` counts the ones before. */
  onUp?: (instance: T, restarts: number) => void;
  backoff?: Backoff;
}

export class Supervisor<T extends Running> {
  private instance?: T;
  private relaunching?: Promise<T>;
  private wanted = false;
  private stopped = new AbortController();
  private delayMs: number;
  private readonly backoff: Backoff;
  /** Restarts after the child died on its own, since the stack started. */
  restarts = 0;

  private constructor(private readonly o: SupervisorOptions<T>) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.delayMs = this.backoff.firstMs;
  }

  /** Starts the child and supervises it; a child that cannot start the first time fails the call. */
  static async start<T extends Running>(o: SupervisorOptions<T>): Promise<Supervisor<T>> {
    const s = new Supervisor(o);
    await s.resume();
    return s;
  }

  get name(): string {
    return this.o.name;
  }

  /** The running instance, or undefined while it is being started again or is stopped. */
  get current(): T | undefined {
    return this.instance;
  }

  /** The running instance, after the restart in progress if there is one. */
  async ready(): Promise<T> {
    if (this.instance) return this.instance;
    if (this.relaunching) return this.relaunching;
    throw new ChildNotRunningError(this.o.name);
  }

  /** Starts the child if it is not running and supervises it again (after stop()). */
  async resume(): Promise<T> {
    if (this.wanted) return this.ready();
    this.wanted = true;
    this.stopped = new AbortController();
    this.delayMs = this.backoff.firstMs;
    const instance = await this.o.launch().catch((e: unknown) => {
      this.wanted = false;
      throw e;
    });
    this.up(instance);
    return instance;
  }

  /** Stops the child and stops supervising it: it is not started again until resume(). */
  async stop(): Promise<void> {
    this.wanted = false;
    this.stopped.abort();
    const instance = this.instance;
    this.instance = undefined;
    await instance?.stop();
    await this.relaunching?.catch(() => undefined);
  }

  private up(instance: T): void {
    this.instance = instance;
    const startedAt = Date.now();
    this.o.onUp?.(instance, this.restarts);
    void instance.exited.then((code) => {
      if (this.instance !== instance) return; // stopped on purpose
      this.instance = undefined;
      if (!this.wanted) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= this.backoff.stableMs) this.delayMs = this.backoff.firstMs;
      this.o.log(
        `${this.o.name} (pid ${instance.pid}) exited on its own (${code === null ? 'killed by a signal' : `exit code ${code}`}) after ${(ranMs / 1000).toFixed(1)} s; starting it again in ${this.delayMs} ms`,
      );
      this.relaunching = this.relaunch(Date.now());
      this.relaunching.catch(() => undefined);
    });
  }

  private async relaunch(diedAt: number): Promise<T> {
    const { signal } = this.stopped;
    try {
      for (;;) {
        await sleep(this.delayMs, undefined, { signal });
        this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
        let instance: T;
        try {
          instance = await this.o.launch();
        } catch (e) {
          if (signal.aborted) throw e;
          this.o.log(`${this.o.name} did not start again: ${(e as Error).message}; next attempt in ${this.delayMs} ms`);
          continue;
        }
        if (signal.aborted) {
          await instance.stop();
          throw new ChildNotRunningError(this.o.name);
        }
        this.restarts++;
        this.o.log(`${this.o.name} is back (pid ${instance.pid}), ${Date.now() - diedAt} ms after it died`);
        this.up(instance);
        return instance;
      }
    } catch (e) {
      throw signal.aborted ? new ChildNotRunningError(this.o.name, { cause: e }) : e;
    } finally {
      this.relaunching = undefined;
    }
  }
}
