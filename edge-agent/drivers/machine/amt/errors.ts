/** Typed failures of the Intel AMT machine driver; the shared ones (NoDiskError, …) come from ../errors. */
import { AgentError } from '../../../errors';
import type { PowerHint } from '../errors';

/** What a bad AMT setting's message tells the operator to fix. */
export const AMT_SETTINGS =
  "the machine's AMT settings (host, port, tls, caCertificate, certificateSha256, tlsServerName, bootDevice, …)";

export const AMT_POWER_HINT: PowerHint = {
  check: "Check the machine's AMT event log (and that AMT is provisioned with power control), then try again.",
};

export class AmtCredentialsMissingError extends AgentError {
  constructor(readonly machineId: string) {
    super(
      'missing_credentials',
      `Machine ${machineId} has no AMT password. Set the machine's credentials.password (write-only), and credentials.user unless it is admin.`,
    );
  }
}

export class AmtUnreachableError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as Error | undefined)?.cause ?? options?.cause;
    super(
      'amt_unreachable',
      `The AMT service of machine ${machineId} at ${url} did not answer (${(why as Error | undefined)?.message ?? 'no reason given'}). Check settings.host and settings.port (16992, or 16993 with tls), and that AMT is provisioned and reachable from the agent's host.`,
      options,
    );
  }
}

export class AmtUnauthorizedError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    readonly user: string,
  ) {
    super(
      'amt_unauthorized',
      `The AMT service of machine ${machineId} at ${url} refused user ${user} (HTTP 401 after digest authentication). Check credentials.user and credentials.password.`,
    );
  }
}

export class AmtRequestError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    readonly what: string,
    readonly detail: string,
  ) {
    super(
      'amt_request_failed',
      `AMT at ${url} could not ${what} for machine ${machineId}: ${detail}. Check the AMT version and its event log; the request may not suit this firmware.`,
    );
  }
}

/** The firmware's TLS certificate did not pass the machine's trust settings; nothing was sent. */
export class AmtCertificateError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    /** pin_mismatch: not the pinned fingerprint; untrusted: no trusted CA signed it; name_mismatch: it names another host. */
    readonly problem: 'pin_mismatch' | 'untrusted' | 'name_mismatch',
    readonly presented: { subject: string; issuer: string; names: string; sha256: string },
    detail: string,
  ) {
    const cert = `${presented.subject} (issued by ${presented.issuer}${presented.names ? `; names ${presented.names}` : ''}; SHA-256 ${presented.sha256})`;
    const fix = {
      pin_mismatch:
        "Check that settings.host is this machine's AMT; if its certificate was replaced, update settings.certificateSha256.",
      untrusted:
        'Set settings.caCertificate to the PEM of the CA that signed it (or of the certificate itself, if self-signed), or pin it with settings.certificateSha256, after checking the fingerprint against the firmware (MEBx or its provisioning record).',
      name_mismatch:
        'Set settings.tlsServerName to a name the certificate holds, or pin it with settings.certificateSha256.',
    }[problem];
    super(
      'amt_certificate_rejected',
      `The AMT service of machine ${machineId} at ${url} presented the certificate ${cert}, which was refused: ${detail}. Nothing was sent. ${fix}`,
    );
  }
}

/** The TCP connection was made but no TLS session came of it: often a plain-HTTP service. */
export class AmtTlsError extends AgentError {
  constructor(
    readonly machineId: string,
    readonly url: string,
    cause: Error & { reason?: string },
  ) {
    super(
      'amt_tls_failed',
      `The AMT service of machine ${machineId} at ${url} did not complete a TLS handshake (${cause.reason ?? cause.message.trim()}). If it serves plain HTTP (AMT without TLS listens on 16992), set settings.tls to false; otherwise check settings.port (16993 for TLS).`,
      { cause },
    );
  }
}
