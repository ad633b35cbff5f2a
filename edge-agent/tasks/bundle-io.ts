/**
 * Reading and writing the files of a bundle wherever it is: a folder of a file repository (through the
 * repository's driver, so a path never leaves it), or S3 objects reached by presigned URLs.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { MANIFEST } from '../../statemachines/bundle';
import type { BundleLocation } from '../../statemachines/tasks';
import { TEMP_PREFIX } from '../drivers/storage/paths';
import { AgentError, BundleUnreadableError } from '../errors';
import { syncDirectory } from '../state-file';
import type { TaskContext } from './context';

export interface BundleIo {
  /** Where the bundle is, for messages. */
  where: string;
  /** The text of a file of the bundle; undefined when there is none. */
  text(rel: string): Promise<string | undefined>;
  /** The bytes of a file from `start` on. */
  stream(rel: string, start: number, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
  /** Writes a file whole from `chunks`, `size` bytes (under a temp name first where the bundle is a folder). */
  write(rel: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): Promise<void>;
}

export function bundleIo(loc: BundleLocation, ctx: TaskContext): BundleIo {
  return loc.kind === 'file' ? folderIo(loc, ctx) : s3Io(loc.urls);
}

function folderIo(loc: Extract<BundleLocation, { kind: 'file' }>, ctx: TaskContext): BundleIo {
  const storage = ctx.drivers.storage(loc.repository.kind);
  const abs = (rel: string) => storage.resolve(loc.repository, join(loc.path, rel));
  const where = `${loc.path} of repository ${loc.repository.id}`;
  return {
    where,
    async text(rel) {
      return readFile(await abs(rel), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
        throw e;
      });
    },
    async stream(rel, start) {
      const file = await abs(rel);
      return createReadStream(file, { start, highWaterMark: 1024 * 1024 }).on('error', () => {});
    },
    async write(rel, chunks) {
      const file = await abs(rel);
      await mkdir(dirname(file), { recursive: true });
      const temp = join(dirname(file), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
      const fh = await open(temp, 'w', 0o644);
      try {
        for await (const chunk of chunks) await fh.write(chunk);
        await fh.sync();
        await fh.close();
        await rename(temp, file);
        await syncDirectory(dirname(file));
      } catch (e) {
        await fh.close().catch(() => {});
        await rm(temp, { force: true });
        throw e;
      }
    },
  };
}

function s3Io(urls: Record<string, string>): BundleIo {
  const url = (rel: string) => {
    const u = urls[rel];
    if (!u)
      throw new BundleUnreadableError('S3', [`the manifest names ${rel}, which the import was not given a URL for`]);
    return u;
  };
  return {
    where: 'S3',
    async text(rel) {
      const res = await fetch(url(rel));
      if (res.status === 404) return undefined;
      if (!res.ok)
        throw new AgentError('bundle_unreachable', `GET of ${rel} of the bundle answered HTTP ${res.status}`);
      return res.text();
    },
    async stream(rel, start, signal) {
      const res = await fetch(url(rel), { headers: start ? { range: `bytes=${start}-` } : {}, signal });
      if (!res.ok || !res.body)
        throw new AgentError('bundle_unreachable', `GET of ${rel} of the bundle answered HTTP ${res.status}`);
      if (start && res.status !== 206) throw new AgentError('bundle_unreachable', `GET of ${rel} ignored its Range`);
      return res.body as unknown as AsyncIterable<Uint8Array>;
    },
    async write(rel, chunks, size) {
      // Streamed as it is read and hashed: the request pulls the next chunk only when it has sent the last.
      const res = await fetch(url(rel), {
        method: 'PUT',
        headers: { 'content-length': String(size) },
        body: Readable.toWeb(Readable.from(chunks)) as unknown as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      if (!res.ok)
        throw new AgentError('bundle_unreachable', `PUT of ${rel} of the bundle answered HTTP ${res.status}`);
    },
  };
}

export const manifestOf = (io: BundleIo) => io.text(MANIFEST);
