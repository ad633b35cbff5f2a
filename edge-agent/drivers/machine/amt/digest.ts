/**
 * HTTP Digest access authentication, client side (RFC 7616; RFC 2617's MD5 with qop=auth), as AMT
 * asks for it. The password only enters the hash; the header holds the user name and the digest.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: 'MD5' | 'SHA-256';
}

/** The Digest challenge of a `WWW-Authenticate` header; undefined when it offers none (or no qop we know). */
export function parseChallenge(header: string | null): DigestChallenge | undefined {
  if (!header || !/^\s*Digest\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header
    .replace(/^\s*Digest\s+/i, '')
    .matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/gi))
    params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  if (!params['realm'] || !params['nonce']) return undefined;
  const algorithm = /^sha-256$/i.test(params['algorithm'] ?? '') ? 'SHA-256' : 'MD5';
  const qop = params['qop']?.split(',').map((q) => q.trim());
  if (qop && !qop.includes('auth')) return undefined;
  return {
    realm: params['realm'],
    nonce: params['nonce'],
    algorithm,
    ...(qop ? { qop: 'auth' } : {}),
    ...(params['opaque'] !== undefined ? { opaque: params['opaque'] } : {}),
  };
}

const hash = (algorithm: DigestChallenge['algorithm'], text: string) =>
  createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

/** The `Authorization` header for request `nc` (1, 2, …) under `challenge`. */
export function digestAuthorization(
  c: DigestChallenge,
  user: string,
  password: string,
  method: string,
  uri: string,
  nc: number,
  cnonce = randomBytes(8).toString('hex'),
): string {
  const ha1 = hash(c.algorithm, `${user}:${c.realm}:${password}`);
  const ha2 = hash(c.algorithm, `${method}:${uri}`);
  const count = nc.toString(16).padStart(8, '0');
  const response = c.qop
    ? hash(c.algorithm, `${ha1}:${c.nonce}:${count}:${cnonce}:${c.qop}:${ha2}`)
    : hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
  const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const parts = [
    `username=${quote(user)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${c.algorithm}`,
    `response=${quote(response)}`,
    ...(c.qop ? [`qop=${c.qop}`, `nc=${count}`, `cnonce=${quote(cnonce)}`] : []),
    ...(c.opaque !== undefined ? [`opaque=${quote(c.opaque)}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}
