/**
 * A minimal Redfish client over fetch. Credentials go in an HTTP Basic Authorization header only,
 * never in a URL or a message.
 */
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import {
  REDFISH_SETTINGS,
  RedfishCredentialsMissingError,
  RedfishRequestError,
  RedfishUnauthorizedError,
  RedfishUnreachableError,
} from './errors';

export interface RedfishConnection {
  /** Scheme, host and port of the BMC, e.g. https://10.0.0.5 */
  origin: string;
  username: string;
  password: string;
  timeoutMs: number;
}

export function redfishConnection(machine: MachineRef): RedfishConnection {
  const s = new SettingsReader(machine, REDFISH_SETTINGS);
  const endpoint = s.string('endpoint');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw s.fail('settings.endpoint', `is not a URL (${JSON.stringify(endpoint)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw s.fail('settings.endpoint', 'must start with https:// or http://');
  if (url.username || url.password)
    throw s.fail('settings.endpoint', 'must not hold credentials (put them in the machine credentials)');
  const username = credential(machine, 'username');
  const password = credential(machine, 'password');
  if (!username || !password) {
    throw new RedfishCredentialsMissingError(
      machine.id,
      [!username && 'credentials.username', !password && 'credentials.password'].filter((k): k is string => !!k),
    );
  }
  return { origin: url.origin, username, password, timeoutMs: s.seconds('requestTimeoutSeconds', 30, 600) };
}

export interface RedfishResponse<T> {
  body: T;
  etag?: string;
}

export class RedfishClient {
  private readonly authorization: string;

  constructor(
    private readonly machineId: string,
    private readonly c: RedfishConnection,
  ) {
    this.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  get<T>(path: string): Promise<RedfishResponse<T>> {
    return this.request<T>('GET', path);
  }

  patch(path: string, body: unknown, etag?: string): Promise<RedfishResponse<unknown>> {
    return this.request('PATCH', path, body, etag ? { 'If-Match': etag } : {});
  }

  post(path: string, body: unknown): Promise<RedfishResponse<unknown>> {
    return this.request('POST', path, body);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<RedfishResponse<T>> {
    // Paths are @odata.id values: absolute paths on the BMC's own origin.
    const url = new URL(path, this.c.origin).toString();
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'OData-Version': '4.0',
      Authorization: this.authorization,
      ...extra,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.c.timeoutMs),
      });
    } catch (err) {
      throw new RedfishUnreachableError(this.machineId, url, { cause: err });
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw new RedfishUnauthorizedError(this.machineId, url, res.status);
    if (!res.ok) throw new RedfishRequestError(this.machineId, method, url, res.status, errorDetail(text));
    const etag = res.headers.get('etag') ?? undefined;
    let parsed: unknown = {};
    try {
      if (text.trim()) parsed = JSON.parse(text);
    } catch {
      throw new RedfishRequestError(
        this.machineId,
        method,
        url,
        res.status,
        `the answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
    return { body: parsed as T, ...(etag ? { etag } : {}) };
  }
}

/** The message of a Redfish error body (`error.@Message.ExtendedInfo[].Message` or `error.message`). */
function errorDetail(text: string): string {
  try {
    const { error } = JSON.parse(text) as {
      error?: { message?: string; '@Message.ExtendedInfo'?: { Message?: string }[] };
    };
    const extended = (error?.['@Message.ExtendedInfo'] ?? []).map((i) => i.Message).filter(Boolean);
    return (extended.length ? extended.join('; ') : (error?.message ?? text)).slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}
