/**
 * Checks an AWS Signature Version 4 `Authorization` header the way AWS does: the signature is computed
 * again from the request and the one secret key the store was started with, so only a holder of that key
 * gets in. Steps (AWS General Reference, "Create a signed AWS API request"):
 *   canonical request = method \n canonical URI \n canonical query \n canonical headers \n signed headers \n sha256(body)
 *   string to sign    = AWS4-HMAC-SHA256 \n X-Amz-Date \n <date>/<region>/<service>/aws4_request \n sha256(canonical request)
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 * Query-string (presigned) authentication is not accepted: clients of this API sign headers.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  IncompleteSignatureError,
  InvalidSignatureError,
  MissingAuthenticationError,
  UnrecognizedClientError,
} from './errors';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

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

/** Throws the AWS error a service answers when `request` is not signed by `expected.credentials`. */
export function verifySignature(request: SignedRequest, expected: Expected): void {
  const headers = headerValues(request.rawHeaders);
  const authorization = headers.get('authorization');
  if (!authorization) throw new MissingAuthenticationError();
  const auth = parseAuthorization(authorization.join(','));
  if (auth.accessKeyId !== expected.credentials.accessKeyId) throw new UnrecognizedClientError(auth.accessKeyId);

  const amzDate = headers.get('x-amz-date')?.[0] ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(amzDate))
    throw new IncompleteSignatureError('no X-Amz-Date header in ISO 8601 basic format');
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date'))
    throw new IncompleteSignatureError('SignedHeaders must include host and x-amz-date');
  checkScope(auth.scope, amzDate, expected);
  checkClock(amzDate, expected.now);

  const bodyHash = sha256Hex(request.body);
  const declared = headers.get('x-amz-content-sha256')?.[0];
  if (declared !== undefined && declared !== bodyHash)
    throw new InvalidSignatureError('X-Amz-Content-Sha256 does not match the body: sign the payload');
  const canonicalHeaders = auth.signedHeaders.map((name) => {
    const values = headers.get(name);
    if (!values) throw new InvalidSignatureError(`signed header ${name} is not in the request`);
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
    throw new InvalidSignatureError(
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
  if (!value.startsWith(`${ALGORITHM} `)) throw new IncompleteSignatureError(`the algorithm is not ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature)
    throw new IncompleteSignatureError('it needs Credential=, SignedHeaders= and Signature=');
  const [accessKeyId = '', ...scope] = credential.split('/');
  if (scope.length !== 4)
    throw new IncompleteSignatureError('Credential is not <key>/<date>/<region>/<service>/aws4_request');
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new IncompleteSignatureError('Signature is not 64 hex digits');
  const names = signedHeaders.split(';');
  if (names.some((n) => n !== n.toLowerCase() || n === '') || [...names].sort().join(';') !== signedHeaders)
    throw new IncompleteSignatureError('SignedHeaders must be lowercase names, sorted, separated by ";"');
  return { accessKeyId, scope, signedHeaders: names, signature };
}

function checkScope(scope: string[], amzDate: string, expected: Expected): void {
  const [date, region, service, terminator] = scope;
  if (date !== amzDate.slice(0, 8))
    throw new InvalidSignatureError(`Date in Credential scope does not match ${amzDate.slice(0, 8)} from X-Amz-Date`);
  if (region !== expected.region)
    throw new InvalidSignatureError(
      `Credential should be scoped to a valid region, not '${region}': use region ${expected.region}`,
    );
  if (service !== expected.service)
    throw new InvalidSignatureError(`Credential should be scoped to correct service: '${expected.service}'`);
  if (terminator !== 'aws4_request')
    throw new InvalidSignatureError(`Credential should be scoped with a valid terminator: 'aws4_request'`);
}

function checkClock(amzDate: string, now: Date): void {
  const signed = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(signed)) throw new IncompleteSignatureError('X-Amz-Date is not a date');
  if (Math.abs(now.getTime() - signed) > MAX_SKEW_MS)
    throw new InvalidSignatureError(
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
    throw new IncompleteSignatureError('the query string is not percent-encoded');
  }
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
