/**
 * The console's way to the API: the app's own routes, called in-process with the session's token,
 * so authentication, authorization, validation and their error messages are the API's, once.
 */

/** An API answer: its status and JSON body; `error` is the API's own `{code, message}` when it refused. */
export interface Reply<T = unknown> {
  status: number;
  body: T;
  error?: { code: string; message: string };
}

export type ApiFetch = (request: Request) => Response | Promise<Response>;

export interface ConsoleApi {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<Reply<T>>;
  /** GET that throws an ApiReplyError when the API refuses (a page cannot show what it could not read). */
  read<T>(path: string): Promise<T>;
}

/** An API answer other than 2xx, raised by `read`: the console shows its message. */
export class ApiReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(reply.error?.message ?? `the API answered ${reply.status}`);
    this.name = 'ApiReplyError';
  }
}

export function consoleApi(fetch: ApiFetch, origin: string, token: string): ConsoleApi {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    const res = await fetch(
      new Request(`${origin}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      }),
    );
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { error: { code: 'not_json', message: text.slice(0, 500) } };
    }
    const error = res.ok ? undefined : (json as { error?: Reply['error'] } | undefined)?.error;
    return {
      status: res.status,
      body: json as T,
      ...(res.ok ? {} : { error: error ?? { code: String(res.status), message: `the API answered ${res.status}` } }),
    };
  };
  return {
    call,
    read: async <T>(path: string) => {
      const r = await call<T>('GET', path);
      if (r.error) throw new ApiReplyError(r);
      return r.body;
    },
  };
}
