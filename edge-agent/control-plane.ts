/** The agent's HTTP calls to the control plane: liveness and progress. Best effort, never fatal. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStep } from '../statemachines/timing';
import type { AgentConfig } from './config';

/**
 * A task's first report waits this long: a task that ends sooner reports nothing but its outcome
 * (which carries its steps), so no report races the commit of its end.
 */
const QUIET_START_MS = 250;

export class ControlPlane {
  private readonly last = new Map<string, number>();
  /** Each operation's progress reports, sent one after the other so they arrive in order. */
  private readonly sending = new Map<string, Promise<unknown>>();
  /** The steps each operation's reports entered, in order: the outcome carries them (statemachines/timing.ts). */
  private readonly entered = new Map<string, AgentStep[]>();
  constructor(
    private readonly config: Pick<AgentConfig, 'api' | 'token' | 'site'>,
    private readonly log: (line: string) => void,
  ) {}

  private async call(method: string, path: string, body: unknown): Promise<boolean> {
    try {
      const res = await fetch(`${this.config.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.config.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) this.log(`${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
      return res.ok;
    } catch (e) {
      this.log(`${method} ${path}: ${(e as Error).message}`);
      return false;
    }
  }

  /** Reports the agent on `host` alive; its first report creates the host's lane. */
  alive(
    host: string,
    info: {
      version: string;
      /** The machine's own host name (`host` may be a cut or chosen one). */
      machine: string;
      startedAt: string;
      slots: number;
      hooks: { name: string; on: 'image' | 'machine'; doc?: string }[];
      repositories?: { shared?: string[] };
    },
  ): Promise<boolean> {
    return this.call(
      'PUT',
      `/v1/sites/${encodeURIComponent(this.config.site)}/agents/${encodeURIComponent(host)}`,
      info,
    );
  }

  /** At most one report per operation per second, except step changes and completion; none in its first QUIET_START_MS. */
  progress(operation: string, progress: number, step?: string, message?: string): void {
    const now = Date.now();
    const steps = this.entered.get(operation) ?? [];
    if (step && steps.at(-1)?.name !== step && steps.length < 50)
      this.entered.set(operation, [
        ...steps,
        { name: step, startedAt: new Date(now).toISOString(), ...(message ? { message: message.slice(0, 500) } : {}) },
      ]);
    const key = `${operation}:${step ?? ''}`;
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < 1000 && progress < 1) return;
    this.last.set(key, now);
    const body = { progress: Math.min(1, Math.max(0, progress)), step, message };
    const previous = this.sending.get(operation) ?? sleep(QUIET_START_MS, undefined, { ref: false });
    const next = previous.then(() =>
      // A report still queued when its task has ended is dropped: the operation has moved on.
      this.sending.has(operation) ? this.call('POST', `/v1/operations/${operation}/progress`, body) : undefined,
    );
    this.sending.set(operation, next);
  }

  /**
   * Once the operation's progress reports have arrived (or failed), so its outcome is sent after
   * them; at most `waitMs`, as a control plane that does not answer must not hold the outcome back.
   */
  async settled(operation: string, waitMs = 3000): Promise<void> {
    const pending = this.sending.get(operation);
    if (!pending) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** The steps the operation's reports entered so far. */
  steps(operation: string): AgentStep[] {
    return this.entered.get(operation) ?? [];
  }

  forget(operation: string): void {
    this.entered.delete(operation);
    for (const key of this.last.keys()) if (key.startsWith(`${operation}:`)) this.last.delete(key);
    this.sending.delete(operation);
  }
}
