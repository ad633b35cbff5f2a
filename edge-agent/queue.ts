/**
 * Bounded concurrency per key (a repository): tasks over the limit wait their turn instead of
 * failing. The agent keeps heartbeating waiting tasks, so a long queue never looks like a dead agent.
 */
export class KeyedSemaphore {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  /** Would `acquire(key)` wait now? */
  full(key: string): boolean {
    return (this.running.get(key) ?? 0) >= this.limit;
  }

  /** How many tasks wait for `key` right now. */
  queued(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  /** Resolves with a release function once a slot for `key` is free. */
  async acquire(key: string): Promise<() => void> {
    if ((this.running.get(key) ?? 0) >= this.limit) {
      await new Promise<void>((resolve) => {
        const q = this.waiting.get(key) ?? [];
        q.push(resolve);
        this.waiting.set(key, q);
      });
    } else this.running.set(key, (this.running.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(key)?.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.running.set(key, (this.running.get(key) ?? 1) - 1);
    };
  }
}
