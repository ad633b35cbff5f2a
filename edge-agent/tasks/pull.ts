/**
 * Pulling an uploaded image through a presigned GET URL into the partial file storage gives it:
 * streamed, hashed as it arrives, resumed with a Range request after a dropped connection (or an
 * agent restart), and done only when its size and sha256 are right (storage then renames it into place).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { AgentError, ChecksumMismatchError } from '../errors';

export interface PullInput {
  url: string;
  sizeBytes: number;
  sha256?: string;
}

const ATTEMPTS = 5;

async function hashOf(path: string, upTo: number) {
  const hash = createHash('sha256');
  if (upTo > 0) for await (const chunk of createReadStream(path, { end: upTo - 1 })) hash.update(chunk as Buffer);
  return hash;
}

/** One upload being pulled into `partial`; `dest` names the image in messages. */
interface Transfer {
  partial: string;
  dest: string;
  pull: PullInput;
  report: (p: number) => void;
  signal: AbortSignal;
}

/**
 * Fills `partial` with the upload, continuing what it holds. Retries a dropped transfer from where it
 * stopped; a wrong size or checksum is final (and the next try starts afresh).
 */
export async function pullInto(
  partial: string,
  dest: string,
  pull: PullInput,
  report: (p: number) => void,
  signal: AbortSignal,
): Promise<{ sha256: string }> {
  const t: Transfer = { partial, dest, pull, report, signal };
  for (let attempt = 1; ; attempt++) {
    try {
      return await pullOnce(t);
    } catch (e) {
      const final = e instanceof AgentError && (e.code === 'size_mismatch' || e.code === 'checksum_mismatch');
      if (final || signal.aborted || attempt >= ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

async function pullOnce(t: Transfer): Promise<{ sha256: string }> {
  const { partial, pull } = t;
  let have = await stat(partial).then(
    (s) => s.size,
    () => 0,
  );
  if (have > pull.sizeBytes) {
    await rm(partial, { force: true });
    have = 0;
  }
  const hash = await hashOf(partial, have);
  if (have < pull.sizeBytes) {
    const res = await fetch(pull.url, { headers: have ? { range: `bytes=${have}-` } : {}, signal: t.signal });
    if (!res.ok || !res.body)
      throw new AgentError('pull_failed', `GET of the uploaded object answered HTTP ${res.status}`);
    // A server that ignores Range sends everything again: start over.
    if (have && res.status === 200) {
      await res.body.cancel();
      await rm(partial, { force: true });
      return pullOnce(t);
    }
    const file = await open(partial, have ? 'a' : 'w');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await file.write(chunk);
        hash.update(chunk);
        have += chunk.length;
        t.report(pull.sizeBytes ? have / pull.sizeBytes : 1);
      }
      await file.sync();
    } finally {
      await file.close();
    }
  }
  const sha256 = hash.digest('hex');
  if (have !== pull.sizeBytes || (pull.sha256 && sha256 !== pull.sha256)) {
    await rm(partial, { force: true });
    if (have !== pull.sizeBytes)
      throw new AgentError(
        'size_mismatch',
        `the upload has ${have} bytes, ${pull.sizeBytes} were announced; upload it again`,
      );
    throw new ChecksumMismatchError(t.dest, pull.sha256!, sha256);
  }
  return { sha256 };
}
