/**
 * Checks an AWS Signature Version 4 `Authorization` header the way AWS does, for every local AWS endpoint
 * (Secrets Manager, Step Functions): the signature is computed again from the request and the one secret
 * key the endpoint was started with, so only a holder of that key gets in. A refused request throws a
 * `SignatureRefusedError`, which each endpoint answers as its own API error with the AWS type and status. Steps (AWS General Reference, "Create a signed AWS API request"):
 *   canonical request = method \n canonical URI \n canonical query \n canonical headers \n signed headers \n sha256(body)
 *   string to sign    = AWS4-HMAC-SHA256 \n X-Amz-Date \n <date>/<region>/<service>/aws4_request \n sha256(canonical request)
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 * Query-string (presigned) authentication is not accepted: clients of this API sign headers.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CodedError } from '../../functions/errors';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An access key id shaped like AWS's (20 uppercase characters, starting with `prefix`) and a 40-character secret key. */
export function generateCredentials(prefix = 'LOCL'): Credentials {
  const id = [...randomBytes(20)].map((b) => BASE32[b % 32]).join('');
  return { accessKeyId: `${prefix}${id}`.slice(0, 20), secretAccessKey: randomBytes(30).toString('base64') };
}

/** What is wrong with a key pair given to an endpoint, by option name; undefined when it is usable. */
export function credentialsProblem(c: Credentials): { option: string; problem: string } | undefined {
  if (typeof c.accessKeyId !== 'string' || !/^[A-Za-z0-9]{16,128}$/.test(c.accessKeyId))
    return {
      option: 'credentials.accessKeyId',
      problem: 'must be 16-128 letters or digits (or leave credentials out)',
    };
  if (typeof c.secretAccessKey !== 'string' || c.secretAccessKey.length < 20)
    return {
      option: 'credentials.secretAccessKey',
      problem: 'must be at least 20 characters (or leave credentials out)',
    };
  return undefined;
}

/** Why a request was refused; each maps to the error AWS JSON services answer (all HTTP 400). */
export type Refusal = 'missing_authentication' | 'incomplete_signature' | 'unrecognized_client' | 'invalid_signature';

const AWS_TYPES: Record<Refusal, string> = {
  missing_authentication: 'MissingAuthenticationTokenException',
  incomplete_signature: 'IncompleteSignatureException',
  unrecognized_client: 'UnrecognizedClientException',
  invalid_signature: 'InvalidSignatureException',
};

/**
 * A request that is not signed with the endpoint's credentials. Endpoint-neutral: each endpoint wraps it in
 * its own API error class, taking `awsType`, `status`, `code`, the message and `details` from here. Neither
 * the message nor the details hold the signature or the secret key.
 */
export class SignatureRefusedError extends CodedError {
  override readonly status = 400;
  override readonly code: Refusal;
  readonly awsType: string;
  constructor(refusal: Refusal, message: string, details: Record<string, unknown> = {}) {
    super(message, details);
    this.code = refusal;
    this.awsType = AWS_TYPES[refusal];
  }
}

const missing = () =>
  new SignatureRefusedError(
    'missing_authentication',
    'Request is not signed: sign it with AWS Signature Version 4 using the access key the local stack handed out ' +
      '(the AWS SDK and CLI do so when given credentials).',
  );
const incomplete = (problem: string) =>
  new SignatureRefusedError(
    'incomplete_signature',
    `Authorization header is not a usable AWS4-HMAC-SHA256 signature (${problem}): sign with SigV4.`,
    { problem },
  );
const unrecognized = (accessKeyId: string) =>
  new SignatureRefusedError(
    'unrecognized_client',
    `The security token included in the request is invalid: access key "${accessKeyId}" is not the one this ` +
      'endpoint was started with; use the credentials the local stack handed out.',
    { accessKeyId },
  );
const invalid = (problem: string) => new SignatureRefusedError('invalid_signature', `${problem}.`, { problem });

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query, percent-encoded. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value… */
  rawHeaders: string[];
  body: Buffer;
}

export interface Expected {
  credentials: Credentials;
  region: string;
  service: string;
  now: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a request whose X-Amz-Date is more than five minutes off its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;

/** Throws a `SignatureRefusedError` when `request` is not signed by `expected.credentials`. */
export function verifySignature(request: SignedRequest, expected: Expected): void {
  const headers = headerValues(request.rawHeaders);
  const authorization = headers.get('authorization');
  if (!authorization) throw missing();
  const auth = parseAuthorization(authorization.join(','));
  if (auth.accessKeyId !== expected.credentials.accessKeyId) throw unrecognized(auth.accessKeyId);

  const amzDate = headers.get('x-amz-date')?.[0] ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw incomplete('no X-Amz-Date header in ISO 8601 basic format');
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date'))
    throw incomplete('SignedHeaders must include host and x-amz-date');
  checkScope(auth.scope, amzDate, expected);
  checkClock(amzDate, expected.now);

  const bodyHash = sha256Hex(request.body);
  const declared = headers.get('x-amz-content-sha256')?.[0];
  if (declared !== undefined && declared !== bodyHash)
    throw invalid('X-Amz-Content-Sha256 does not match the body: sign the payload');
  const canonicalHeaders = auth.signedHeaders.map((name) => {
    const values = headers.get(name);
    if (!values) throw invalid(`signed header ${name} is not in the request`);
    return `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  });
  const [path = '/', query = ''] = request.url.split('?', 2);
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    canonicalHeaders.join(''),
    auth.signedHeaders.join(';'),
    bodyHash,
  ].join('\n');
  const stringToSign = [ALGORITHM, amzDate, auth.scope.join('/'), sha256Hex(canonicalRequest)].join('\n');
  const [date, region, service, terminator] = auth.scope;
  let key = hmac(`AWS4${expected.credentials.secretAccessKey}`, date!);
  for (const part of [region!, service!, terminator!]) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== signature.length || !timingSafeEqual(given, signature))
    throw invalid(
      'The request signature we calculated does not match the signature you provided: check the secret access key ' +
        'the local stack handed out and the signing method',
    );
}

interface Authorization {
  accessKeyId: string;
  scope: string[];
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): Authorization {
  if (!value.startsWith(`${ALGORITHM} `)) throw incomplete(`the algorithm is not ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature)
    throw incomplete('it needs Credential=, SignedHeaders= and Signature=');
  const [accessKeyId = '', ...scope] = credential.split('/');
  if (scope.length !== 4) throw incomplete('Credential is not <key>/<date>/<region>/<service>/aws4_request');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature is not 64 hex digits');
  const names = signedHeaders.split(';');
  if (names.some((n) => n !== n.toLowerCase() || n === '') || [...names].sort().join(';') !== signedHeaders)
    throw incomplete('SignedHeaders must be lowercase names, sorted, separated by ";"');
  return { accessKeyId, scope, signedHeaders: names, signature };
}

function checkScope(scope: string[], amzDate: string, expected: Expected): void {
  const [date, region, service, terminator] = scope;
  if (date !== amzDate.slice(0, 8))
    throw invalid(`Date in Credential scope does not match ${amzDate.slice(0, 8)} from X-Amz-Date`);
  if (region !== expected.region)
    throw invalid(`Credential should be scoped to a valid region, not '${region}': use region ${expected.region}`);
  if (service !== expected.service)
    throw invalid(`Credential should be scoped to correct service: '${expected.service}'`);
  if (terminator !== 'aws4_request')
    throw invalid(`Credential should be scoped with a valid terminator: 'aws4_request'`);
}

function checkClock(amzDate: string, now: Date): void {
  const signed = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(signed)) throw incomplete('X-Amz-Date is not a date');
  if (Math.abs(now.getTime() - signed) > MAX_SKEW_MS)
    throw invalid(
      `Signature expired or not yet current: ${amzDate} is more than 5 minutes from ${now.toISOString()}; fix the clock`,
    );
}

/** Header name → its values in arrival order (a repeated header is one signed line, values joined by ","). */
function headerValues(raw: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    map.set(name, [...(map.get(name) ?? []), raw[i + 1]!]);
  }
  return map;
}

/** RFC 3986 unreserved characters stay, everything else is %XX (uppercase), as SigV4 wants. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Services other than S3 encode each path segment once more; the path arrives already encoded once. */
function canonicalUri(path: string): string {
  return path === '' ? '/' : path.split('/').map(encode).join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [encode(decode(k)), encode(decode(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw incomplete('the query string is not percent-encoded');
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
