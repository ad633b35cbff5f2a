/** The HTTP API as the client sees it: JSON in and out, a coded error for every answer that is not 2xx. */
import { ApiAnswerError, UnreachableError } from './errors';
import type { Settings } from './settings';

/** An API answer: JSON whose shape depends on the route; read by field, printed as it came. */
// biome-ignore lint/suspicious/noExplicitAny: answers are printed and read by field, not type-checked
export type Json = Record<string, any>;

/** A request gets no answer within this long: the API is taken as unreachable. */
const TIMEOUT_MS = 60_000;

export interface Answer {
  status: number;
  body: Json;
}

export class Client {
  constructor(readonly settings: Settings) {}

  /** `path` is `/v1/…`; `body` is sent as JSON. Throws ApiAnswerError on 4xx/5xx, UnreachableError without an answer. */
  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const { url, token } = this.settings;
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new UnreachableError(url, reason(e), { cause: e });
    }
    const text = await res.text();
    let json: Json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { error: { code: `http_${res.status}`, message: text.slice(0, 500) } };
    }
    if (res.status >= 400) throw new ApiAnswerError(res.status, json, `${method} ${path}`);
    return { status: res.status, body: json };
  }

  get(path: string) {
    return this.call('GET', path).then((a) => a.body);
  }
}

/** Why a fetch got no answer, in a few words: `connection refused`, `timed out after 60 s`, … */
function reason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code) return code;
  return err.cause?.message ?? err.message;
}

/** `/v1/x/{id}` with the id encoded. */
export const at = (base: string, ...ids: string[]) => [base, ...ids.map(encodeURIComponent)].join('/');

/** A path for the raw commands: `clones` and `v1/clones` mean `/v1/clones`, as `/v1/clones` does. */
export function apiPath(p: string): string {
  const path = p.startsWith('/') ? p : `/${p}`;
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/v1?') || path.startsWith('/internal/')
    ? path
    : `/v1${path}`;
}
