/**
 * Site bundles: an export writes one (each object hashed by parts as it is written, manifest.json last,
 * so a folder with a manifest holds a whole bundle); an import verifies every object against the
 * manifest before anything is written, then copies the images into their repositories.
 */
import { createReadStream } from 'node:fs';
import { MANIFEST, type Manifest, PART_BYTES, readManifest } from '../../statemachines/bundle';
import { BundleDamagedError, BundleExistsError, BundleUnreadableError } from '../errors';
import { describeCopy, discardImage, type Filled, fillPartial, placePartial, resumable } from './bundle-copy';
import { type BundleIo, bundleIo, manifestOf } from './bundle-io';
import type { Task, TaskContext } from './context';
import { PartHasher } from './parts';

const seconds = (since: number) => (Date.now() - since) / 1000;

/** The chunks as they pass, fed to `hasher`. */
async function* hashed(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, hasher: PartHasher) {
  for await (const chunk of chunks) {
    hasher.update(chunk);
    yield chunk;
  }
}

async function readBundleManifest(io: BundleIo): Promise<Manifest> {
  const text = await manifestOf(io);
  if (text === undefined) throw new BundleUnreadableError(io.where, [`it has no ${MANIFEST}`]);
  const read = readManifest(text);
  if (!read.ok) throw new BundleUnreadableError(io.where, read.problems);
  return read.value;
}

export const bundleWrite: Task<'bundle_write'> = async (input, ctx) => {
  const started = Date.now();
  const io = bundleIo(input.destination, ctx);
  if (input.destination.kind === 'file') {
    ctx.seen(input.destination.repository);
    const there = await manifestOf(io);
    if (there !== undefined) {
      const read = readManifest(there);
      // The same export run again (the agent restarted after writing it) finds its own bundle whole.
      if (read.ok && read.value.export === input.header.export) return { manifest: read.value, bytes: 0, seconds: 0 };
      throw new BundleExistsError(io.where, read.ok ? read.value.export : 'unknown (an unreadable manifest)');
    }
  }
  const objects: Manifest['objects'] = [];
  let bytes = 0;
  const total = input.objects.length;
  for (const [i, o] of input.objects.entries()) {
    const hasher = new PartHasher(PART_BYTES);
    let facts: Record<string, unknown> = {};
    if (o.source) {
      const storage = ctx.drivers.storage(o.source.repository.kind);
      const info = await storage.inspect(o.source.repository, o.source.path, { signal: ctx.signal });
      const file = await storage.resolve(o.source.repository, o.source.path, true);
      await io.write(
        o.entry.path,
        hashed(createReadStream(file, { highWaterMark: 1024 * 1024, signal: ctx.signal }), hasher),
        info.sizeBytes,
      );
      facts = { format: info.format, allocatedBytes: info.allocatedBytes };
    } else {
      const body = Buffer.from(o.content ?? '', 'utf8');
      await io.write(o.entry.path, hashed([body], hasher), body.length);
    }
    const { sha256, parts } = hasher.digest();
    bytes += hasher.bytes;
    objects.push({ ...o.entry, ...facts, sizeBytes: hasher.bytes, sha256, parts } as Manifest['objects'][number]);
    ctx.report((i + 1) / (total + 1), 'write');
  }
  const text = JSON.stringify({ ...input.header, partBytes: PART_BYTES, objects }, null, 2);
  // What the writer made is checked by the reader's own schema before anyone may read it.
  const checked = readManifest(text);
  if (!checked.ok) throw new BundleUnreadableError(io.where, checked.problems);
  const body = Buffer.from(text, 'utf8');
  await io.write(MANIFEST, [body], body.length);
  return { manifest: checked.value, bytes, seconds: seconds(started) };
};

/** Every byte of every object read and checked part by part; metadata documents come back as text. */
export const bundleVerify: Task<'bundle_verify'> = async (input, ctx) => {
  const started = Date.now();
  const io = bundleIo(input.bundle, ctx);
  const manifest = await readBundleManifest(io);
  const documents: Record<string, string> = {};
  const total = manifest.objects.reduce((n, o) => n + o.sizeBytes, 0) || 1;
  let done = 0;
  for (const o of manifest.objects) {
    const hasher = new PartHasher(manifest.partBytes, (index, sha) => {
      if (o.parts[index] !== sha) throw new BundleDamagedError(o.id, o.path, `part ${index} has sha256 ${sha}`);
    });
    const text: Buffer[] = [];
    let stream: AsyncIterable<Uint8Array>;
    try {
      stream = await io.stream(o.path, 0, ctx.signal);
      for await (const chunk of stream) {
        if (hasher.bytes + chunk.length > o.sizeBytes)
          throw new BundleDamagedError(o.id, o.path, `it is longer than ${o.sizeBytes} bytes`);
        hasher.update(chunk);
        if (o.kind === 'metadata') text.push(Buffer.from(chunk));
        done += chunk.length;
        ctx.report((done / total) * 0.99, 'verify');
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BundleDamagedError(o.id, o.path, 'it is missing');
      throw e;
    }
    if (hasher.bytes !== o.sizeBytes)
      throw new BundleDamagedError(o.id, o.path, `it has ${hasher.bytes} bytes, not ${o.sizeBytes}`);
    const { sha256 } = hasher.digest();
    if (sha256 !== o.sha256) throw new BundleDamagedError(o.id, o.path, `its sha256 is ${sha256}`);
    if (o.kind === 'metadata') documents[o.path] = Buffer.concat(text).toString('utf8');
  }
  return { manifest, documents, bytes: done, seconds: seconds(started) };
};

export const bundleCopy: Task<'bundle_copy'> = async (input, ctx) => {
  const started = Date.now();
  const io = bundleIo(input.bundle, ctx);
  const n = input.images.length;
  const filled: Filled[] = [];
  try {
    for (const [i, img] of input.images.entries()) {
      ctx.seen(img.target.repository);
      filled.push(await fillPartial(io, img, input.partBytes, ctx, (p) => ctx.report(((i + p) / n) * 0.8, 'copy')));
    }
  } catch (e) {
    throw resumable(e, ctx.signal);
  }
  const images = [];
  for (const [i, img] of input.images.entries()) {
    if (!filled[i]!.placed) await placePartial(io, img, input.partBytes, ctx);
    const { placed: _, ...counts } = filled[i]!;
    images.push({ ...(await describeCopy(img.target, ctx)), object: img.object, ...counts });
    ctx.report(0.8 + (0.2 * (i + 1)) / n, 'place');
  }
  return { images, seconds: seconds(started) };
};

export const bundleDiscard: Task<'bundle_discard'> = async (input, ctx: TaskContext) => {
  const removed: string[] = [];
  for (const img of input.images) if (await discardImage(img.target, ctx)) removed.push(img.target.path);
  return { removed };
};
