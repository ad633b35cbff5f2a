/**
 * WS-Management over HTTP or HTTPS to an Intel AMT firmware: envelopes from
 * `@device-management-toolkit/wsman-messages`, POSTed to `/wsman` under HTTP Digest authentication
 * (node:http on a connection made here: plain, or TLS verified by ./tls before anything is written),
 * and answers parsed with fast-xml-parser (namespace prefixes dropped). The password lives in this
 * client only; no URL, message or log holds it.
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { AgentError } from '../../../errors';
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import { type DigestChallenge, digestAuthorization, parseChallenge } from './digest';
import {
  AMT_SETTINGS,
  AmtCredentialsMissingError,
  AmtRequestError,
  AmtUnauthorizedError,
  AmtUnreachableError,
} from './errors';
import { type AmtTrust, amtTrust, connectVerified } from './tls';

export interface AmtConnection {
  /** e.g. http://10.0.0.7:16992 */
  origin: string;
  user: string;
  password: string;
  timeoutMs: number;
  /** How an https origin's certificate is verified; without it, against the system's CAs and the host name. */
  trust?: AmtTrust;
}

/**
 * settings.host, settings.port (16992; 16993 with tls), settings.tls and its trust settings (./tls);
 * credentials.user (admin) and password.
 */
export function amtConnection(machine: MachineRef): AmtConnection {
  const s = new SettingsReader(machine, AMT_SETTINGS);
  const host = s.string('host');
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) throw s.fail('settings.host', 'must be a host name or address');
  const rawTls = machine.settings['tls'];
  if (![undefined, null, true, false, 'true', 'false'].includes(rawTls as never))
    throw s.fail('settings.tls', `must be true or false, not ${JSON.stringify(rawTls)}`);
  const tls = rawTls === true || rawTls === 'true';
  const port = s.number('port', tls ? 16993 : 16992, 1, 65535);
  const trust = amtTrust(s, tls);
  const password = credential(machine, 'password');
  if (!password) throw new AmtCredentialsMissingError(machine.id);
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `${tls ? 'https' : 'http'}://${h}:${port}`,
    user: credential(machine, 'user') ?? 'admin',
    password,
    timeoutMs: s.seconds('requestTimeoutSeconds', 30, 600),
    ...(trust ? { trust } : {}),
  };
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** A parsed answer's Body: its children by local name. */
export type WsmanBody = Record<string, unknown>;

interface Answer {
  status: number;
  challenge: string | undefined;
  text: string;
}

export class WsmanClient {
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  readonly url: string;
  private readonly target: { host: string; port: number; tls: boolean; hostHeader: string };

  constructor(
    private readonly who: string,
    private readonly c: AmtConnection,
  ) {
    this.url = `${c.origin}/wsman`;
    const u = new URL(c.origin);
    const tls = u.protocol === 'https:';
    this.target = {
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(u.port) || (tls ? 443 : 80),
      tls,
      hostHeader: u.host,
    };
  }

  /** Sends one envelope and returns its Body; a SOAP Fault becomes AmtRequestError. */
  async send(envelope: string, what: string): Promise<WsmanBody> {
    let res = await this.post(envelope);
    if (res.status === 401) {
      // The first request, or a stale nonce: answer the server's (new) challenge once.
      this.challenge = parseChallenge(res.challenge ?? null);
      this.nc = 0;
      if (!this.challenge)
        throw new AmtRequestError(this.who, this.url, what, 'the service asked for no Digest authentication');
      res = await this.post(envelope);
      if (res.status === 401) throw new AmtUnauthorizedError(this.who, this.url, this.c.user);
    }
    const ok = res.status >= 200 && res.status < 300;
    let body: WsmanBody;
    try {
      body = ((parser.parse(res.text) as { Envelope?: { Body?: WsmanBody } }).Envelope?.Body ?? {}) as WsmanBody;
    } catch {
      throw new AmtRequestError(this.who, this.url, what, `HTTP ${res.status} with an answer that is not XML`);
    }
    const fault = body['Fault'] as
      | { Reason?: { Text?: unknown }; Code?: { Subcode?: { Value?: unknown } } }
      | undefined;
    if (fault || !ok) {
      const reason = fault
        ? String(fault.Reason?.Text ?? fault.Code?.Subcode?.Value ?? 'a SOAP fault')
        : `HTTP ${res.status}`;
      throw new AmtRequestError(this.who, this.url, what, reason);
    }
    return body;
  }

  private async post(envelope: string): Promise<Answer> {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/soap+xml; charset=utf-8',
      'Content-Length': Buffer.byteLength(envelope),
      Host: this.target.hostHeader,
    };
    if (this.challenge)
      headers['Authorization'] = digestAuthorization(
        this.challenge,
        this.c.user,
        this.c.password,
        'POST',
        '/wsman',
        ++this.nc,
      );
    const signal = AbortSignal.timeout(this.c.timeoutMs);
    try {
      const socket = await this.connect(signal);
      return await new Promise<Answer>((resolve, reject) => {
        const req = http.request(
          { method: 'POST', path: '/wsman', headers, signal, createConnection: () => socket },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              socket.destroy();
              const challenge = res.headers['www-authenticate'];
              resolve({ status: res.statusCode ?? 0, challenge, text: Buffer.concat(chunks).toString('utf8') });
            });
          },
        );
        req.on('error', (err) => {
          socket.destroy();
          reject(err);
        });
        req.end(envelope);
      });
    } catch (err) {
      if (err instanceof AgentError) throw err;
      throw new AmtUnreachableError(this.who, this.url, { cause: err });
    }
  }

  /** A plain connection for http, a verified TLS one for https. */
  private connect(signal: AbortSignal): Promise<Socket> {
    const { host, port, tls } = this.target;
    if (tls) return connectVerified({ who: this.who, url: this.url, host, port }, this.c.trust ?? {}, signal);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const onAbort = () => socket.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      // Kept after connect: an error before the request listens is then a settled no-op, not a crash.
      socket.once('error', (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        resolve(socket);
      });
    });
  }
}

/** One or many: a parsed element that may repeat. */
export function many<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The items of an enumeration: Enumerate, then Pull with its context until the end of sequence. */
export async function enumerate(
  client: WsmanClient,
  messages: { Enumerate: () => string; Pull: (context: string) => string },
  className: string,
  what: string,
): Promise<Record<string, unknown>[]> {
  const started = await client.send(messages.Enumerate(), what);
  let context = String((started['EnumerateResponse'] as { EnumerationContext?: unknown })?.EnumerationContext ?? '');
  const items: Record<string, unknown>[] = [];
  for (let page = 0; context && page < 100; page++) {
    const pulled = (await client.send(messages.Pull(context), what))['PullResponse'] as
      | { Items?: Record<string, unknown>; EnumerationContext?: unknown; EndOfSequence?: unknown }
      | undefined;
    items.push(...many(pulled?.Items?.[className] as Record<string, unknown> | Record<string, unknown>[] | undefined));
    context = pulled?.EndOfSequence !== undefined ? '' : String(pulled?.EnumerationContext ?? '');
  }
  return items;
}
