/**
 * TLS to an AMT firmware (settings.tls). The firmware's certificate is verified before a byte of a
 * request is written, in one of three ways:
 *  - settings.certificateSha256 pins the SHA-256 fingerprint of the firmware's own (leaf) certificate.
 *    The pin is the identity, so neither the chain nor the host name is checked: AMT certificates
 *    often name the machine by something other than the address the agent uses.
 *  - settings.caCertificate (PEM) is the CA that signed it, or the self-signed certificate itself,
 *    trusted instead of the system's CAs; the chain and the name are checked.
 *  - with neither, the system's CAs (Node's default) and the name are checked.
 * The name is settings.tlsServerName, else settings.host. With a pin and a CA, both must hold.
 * Verification is never off: a certificate that fails is AmtCertificateError, naming what was
 * presented and what to set.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import type { SettingsReader } from '../common/settings-reader';
import { AmtCertificateError, AmtTlsError, AmtUnreachableError } from './errors';

export interface AmtTrust {
  /** PEM: the CA (or the self-signed certificate) trusted instead of the system's CAs. */
  ca?: string;
  /** The pinned fingerprint of the leaf certificate: 64 lowercase hex digits. */
  sha256?: string;
  /** The name the certificate must hold, when it is not the host. */
  serverName?: string;
}

const TRUST_KEYS = ['caCertificate', 'certificateSha256', 'tlsServerName'] as const;

/** The trust settings; undefined without tls, where setting any of them is a mistake worth naming. */
export function amtTrust(s: SettingsReader, useTls: boolean): AmtTrust | undefined {
  const [ca, pin, serverName] = TRUST_KEYS.map((k) => s.optionalString(k));
  if (!useTls) {
    const set = TRUST_KEYS.find((_, i) => [ca, pin, serverName][i] !== undefined);
    if (set)
      throw s.fail(
        `settings.${set}`,
        'only applies over TLS: set settings.tls to true (AMT listens on 16993 for TLS), or remove it',
      );
    return undefined;
  }
  if (ca !== undefined) {
    const blocks = ca.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const readable = blocks.length > 0 && blocks.every((b) => parses(b));
    if (!readable)
      throw s.fail(
        'settings.caCertificate',
        'must be the PEM text of the CA that signed the AMT certificate, or of the self-signed certificate (-----BEGIN CERTIFICATE----- …)',
      );
  }
  const sha256 = pin?.replace(/[:\s]/g, '').toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
    throw s.fail(
      'settings.certificateSha256',
      'must be the SHA-256 fingerprint of the AMT certificate: 64 hex digits, with or without colons (openssl x509 -noout -fingerprint -sha256)',
    );
  if (serverName !== undefined && !/^[A-Za-z0-9._:-]+$/.test(serverName))
    throw s.fail('settings.tlsServerName', 'must be a host name or address the AMT certificate holds');
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(serverName !== undefined ? { serverName } : {}),
  };
}

function parses(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

export interface TlsTarget {
  who: string;
  url: string;
  host: string;
  port: number;
}

/** A TLS connection whose certificate passed `trust`; failures are coded errors, never a bare socket error. */
export function connectVerified(t: TlsTarget, trust: AmtTrust, signal: AbortSignal): Promise<TLSSocket> {
  const expected = trust.serverName ?? t.host;
  return new Promise((resolve, reject) => {
    let tcpUp = false;
    const socket = tls.connect({
      host: t.host,
      port: t.port,
      ...(isIP(expected) ? {} : { servername: expected }),
      ...(trust.ca ? { ca: trust.ca } : {}),
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(expected, cert),
      // Node still verifies the chain and the name (socket.authorized); the verdict is taken below,
      // before anything is written, so that a refusal can say which certificate was presented.
      rejectUnauthorized: false,
    });
    const onAbort = () => socket.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal.removeEventListener('abort', onAbort);
    socket.once('connect', () => {
      tcpUp = true;
    });
    socket.once('error', (err) => {
      settle();
      reject(
        tcpUp && !signal.aborted
          ? new AmtTlsError(t.who, t.url, err)
          : new AmtUnreachableError(t.who, t.url, { cause: err }),
      );
    });
    socket.once('secureConnect', () => {
      settle();
      const cert = socket.getPeerCertificate();
      const refusal = verdict(socket, cert, trust, expected);
      if (!refusal) return resolve(socket);
      socket.destroy();
      reject(new AmtCertificateError(t.who, t.url, refusal.problem, presented(cert), refusal.detail));
    });
  });
}

function verdict(
  socket: TLSSocket,
  cert: PeerCertificate,
  trust: AmtTrust,
  expected: string,
): { problem: AmtCertificateError['problem']; detail: string } | undefined {
  const offered = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  if (trust.sha256 && offered !== trust.sha256)
    return { problem: 'pin_mismatch', detail: `not settings.certificateSha256 (${colons(trust.sha256)})` };
  if (trust.sha256 && !trust.ca) return undefined;
  if (socket.authorized) return undefined;
  const why = String(socket.authorizationError ?? 'not trusted');
  if (why === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      problem: 'name_mismatch',
      detail: tls.checkServerIdentity(expected, cert)?.message ?? `it does not name ${expected}`,
    };
  const source = trust.ca ? 'settings.caCertificate' : "the system's CAs";
  return { problem: 'untrusted', detail: `not trusted by ${source}: ${CHAIN_ERRORS[why] ?? 'its chain'} (${why})` };
}

/** OpenSSL's verification codes an AMT certificate meets most, in words. */
const CHAIN_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its issuer is not a trusted CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not a trusted CA',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet (check the clocks)',
};

const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

const dn = (name: Record<string, unknown> | undefined) =>
  Object.entries(name ?? {})
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ') || '(none)';

/** What the firmware presented, for the operator to compare and to copy. */
function presented(cert: PeerCertificate): AmtCertificateError['presented'] {
  return {
    subject: dn(cert.subject as unknown as Record<string, unknown>),
    issuer: dn(cert.issuer as unknown as Record<string, unknown>),
    names: cert.subjectaltname ?? '',
    sha256: cert.fingerprint256 ?? '',
  };
}
