/**
 * `encompass uploads create FILE`: uploading a master image. `POST /v1/uploads` hands out presigned S3
 * URLs (one PUT up to 100 MiB, parts beyond); the file goes up with its Content-Length (S3 refuses a
 * chunked body), and once the object is complete the API starts the master's import by itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Client, Json } from './client';
import { CliError, UnreachableError, UsageError } from './errors';
import { bar } from './progress';

/** Shows bytes going up: a bar on a terminal, a line per step otherwise. */
export interface ByteProgress {
  step(name: string): void;
  bytes(done: number, total: number): void;
  end(): void;
}

export function byteProgress(quiet: boolean, tty = Boolean(process.stderr.isTTY)): ByteProgress {
  if (quiet) return { step() {}, bytes() {}, end() {} };
  let name = '';
  if (!tty) return { step: (n) => process.stderr.write(`${n}\n`), bytes() {}, end() {} };
  return {
    step: (n) => {
      name = n;
    },
    bytes: (done, total) => process.stderr.write(`\r${bar(total ? done / total : 1, name)}\x1b[K`),
    end: () => process.stderr.write('\n'),
  };
}

async function sha256(path: string, progress: ByteProgress, size: number): Promise<string> {
  progress.step('sha256');
  const h = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    progress.bytes(done, size);
  }
  return h.digest('hex');
}

/** PUTs bytes [start, end] of `path` to a presigned URL; answers the ETag. */
function put(url: string, path: string, start: number, end: number, onBytes: (n: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
      method: 'PUT',
      headers: { 'content-length': end - start + 1 },
    });
    req.on('error', (e) => reject(new UnreachableError(u.origin, (e as NodeJS.ErrnoException).code ?? e.message)));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        (res.statusCode ?? 500) < 300
          ? resolve(String(res.headers.etag ?? ''))
          : reject(new CliError(`the storage refused the upload (${res.statusCode}): ${text.slice(0, 300)}`)),
      );
    });
    const file = createReadStream(path, { start, end });
    file.on('data', (d) => onBytes((d as Buffer).length));
    file.on('error', reject);
    file.pipe(req);
  });
}

export interface UploadRequest {
  name: string;
  repository: string;
  [field: string]: unknown;
}

/** Makes the upload, sends the file, and answers the upload (its `upload` id and `key`). */
export async function uploadFile(client: Client, path: string, body: UploadRequest, progress: ByteProgress) {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`${path} is not a file; name the image file to upload`);
  const size = info.size;
  const sum = typeof body.sha256 === 'string' ? body.sha256 : await sha256(path, progress, size);
  const made = (await client.call('POST', '/v1/uploads', { ...body, sizeBytes: size, sha256: sum })).body;
  let sent = 0;
  const onBytes = (n: number) => {
    sent += n;
    progress.bytes(sent, size);
  };
  if (made.method === 'PUT') {
    progress.step(`upload ${body.name}`);
    await put(made.url, path, 0, size - 1, onBytes);
  } else {
    const parts = made.parts as { partNumber: number; url: string }[];
    const etags: string[] = [];
    for (const part of parts) {
      progress.step(`upload ${body.name} part ${part.partNumber}/${parts.length}`);
      const start = (part.partNumber - 1) * made.partBytes;
      etags.push(await put(part.url, path, start, Math.min(start + made.partBytes, size) - 1, onBytes));
    }
    progress.step(`complete ${body.name}`);
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await fetch(made.complete.url, { method: made.complete.method ?? 'POST', body: xml });
    if (!done.ok)
      throw new CliError(`the storage refused to complete the upload (${done.status}): ${await done.text()}`);
  }
  progress.end();
  return made as Json;
}
