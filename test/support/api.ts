/** A small client for the API tests: JSON in and out, operations awaited. */
import { Agent, fetch } from 'undici';
import { inject } from 'vitest';

/**
 * One connection per request (`connection: close`). A kept-alive socket can be closed by the server
 * just as the next request goes out; the client then sees ECONNRESET on write or on read, and on read
 * it cannot know whether the request was handled, so it could not safely retry.
 */
export const dispatcher = new Agent({ pipelining: 0 });

export interface Reply<T = any> {
  status: number;
  body: T;
}

export class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  static admin(): Api {
    const s = inject('stack');
    return new Api(s.url, s.adminToken);
  }

  as(token: string | undefined): Api {
    return new Api(this.url, token);
  }

  async call<T = any>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const res = await fetch(`${this.url}${path}`, {
      dispatcher,
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  get<T = any>(path: string) {
    return this.call<T>('GET', path);
  }
  post<T = any>(path: string, body: unknown = {}) {
    return this.call<T>('POST', path, body);
  }
  patch<T = any>(path: string, body: unknown) {
    return this.call<T>('PATCH', path, body);
  }
  del<T = any>(path: string) {
    return this.call<T>('DELETE', path);
  }

  /** Waits for an operation to end and returns it. */
  async wait(operation: string, timeoutMs = 60_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.get(`/v1/operations/${operation}`);
      if (body.status !== 'running') return body;
      if (Date.now() > until)
        throw new Error(`operation ${operation} still running after ${timeoutMs} ms: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Creates a repository and waits for its site's agent to check it: the create's reply, its body the
   * repository once checked (`ready`, or `unreachable` with the reason; still `checking` on a site with no
   * agent). Every test that creates a repository goes through here, since work on one that is still
   * `checking` is refused.
   */
  async createRepository(body: unknown, timeoutMs = 60_000): Promise<Reply> {
    const created = await this.post('/v1/repositories?wait=20', body);
    if (created.status !== 201) return created;
    let repo = created.body;
    const until = Date.now() + timeoutMs;
    // A repository of a site with no agent yet has no check to wait for (its `reason` says so).
    while (repo.status === 'checking' && repo.operation && Date.now() < until)
      repo = (await this.get(`/v1/repositories/${repo.id}?wait=20`)).body;
    return { status: created.status, body: repo };
  }

  /** POSTs a request that answers 202 with an operation, and waits for it. */
  async run(path: string, body: unknown = {}): Promise<any> {
    const r = await this.post(path, body);
    if (r.status !== 202) throw new Error(`POST ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return this.wait(r.body.operation);
  }
}
