/** The agent's HTTP calls to the control plane: liveness and progress. Best effort, never fatal. */
import type { AgentConfig } from './config';

export class ControlPlane {
  private readonly last = new Map<string, number>();
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

  alive(info: {
    version: string;
    host: string;
    startedAt: string;
    slots: number;
    hooks: { name: string; on: 'image' | 'machine'; doc?: string }[];
  }): Promise<boolean> {
    return this.call('PUT', `/v1/sites/${encodeURIComponent(this.config.site)}/agent`, info);
  }

  /** At most one report per operation per second, except step changes and completion. */
  progress(operation: string, progress: number, step?: string, message?: string): void {
    const now = Date.now();
    const key = `${operation}:${step ?? ''}`;
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < 1000 && progress < 1) return;
    this.last.set(key, now);
    void this.call('POST', `/v1/operations/${operation}/progress`, {
      progress: Math.min(1, Math.max(0, progress)),
      step,
      message,
    });
  }

  forget(operation: string): void {
    for (const key of this.last.keys()) if (key.startsWith(`${operation}:`)) this.last.delete(key);
  }
}
