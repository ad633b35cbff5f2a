/**
 * What the local AWS JSON endpoints (Step Functions over JSON 1.0, Secrets Manager over JSON 1.1)
 * share: reading a bounded request body, parsing it as one JSON object, and answering as AWS does.
 * Each endpoint raises its own typed errors, so the error to throw is passed in.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The body's bytes; `tooLarge()` is thrown as soon as more than `maxBytes` arrive. */
export async function readRaw(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An empty body is `{}`; anything but one JSON object throws `malformed(why, cause)`. */
export function parseJsonObject<T extends object>(raw: Buffer, malformed: (why: string, cause?: unknown) => Error): T {
  const text = raw.toString('utf8').trim();
  if (text === '') return {} as T;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw malformed('not JSON', error);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed('not a JSON object');
  return parsed as T;
}

/** Answers with `payload` as `application/x-amz-json-<version>`, naming the error type when there is one. */
export function sendAwsJson(
  res: ServerResponse,
  version: '1.0' | '1.1',
  status: number,
  payload: unknown,
  errorType?: string,
): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}
