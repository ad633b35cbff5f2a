/**
 * Copying the images of a bundle into their repositories, resumably, in two phases: every image into a
 * partial file beside its place first, then each partial renamed into place by its storage driver. A
 * failure in the first phase leaves partials only, never an image without a record; the next copy of
 * the same image keeps the partial's leading parts that match their sha256 and fetches only the rest.
 * Zero blocks are left as holes.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ImageRef, TaskInput } from '../../statemachines/tasks';
import { partialOf } from '../drivers/storage/atomic';
import { ImageExistsError } from '../drivers/storage/errors';
import { AgentError, BundleDamagedError } from '../errors';
import type { BundleIo } from './bundle-io';
import type { TaskContext } from './context';
import { describe } from './images';
import { PartHasher } from './parts';

type CopyItem = TaskInput<'bundle_copy'>['images'][number];

const BLOCK = 64 * 1024;
const isZero = (b: Uint8Array) => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

/** How many leading bytes of `partial` are whole parts that match `parts`, with the hasher fed with them. */
async function keptBytes(partial: string, img: CopyItem, partBytes: number, hasher: PartHasher): Promise<number> {
  const size = await stat(partial).then(
    (s) => s.size,
    () => 0,
  );
  let kept = 0;
  for (let i = 0; i < img.parts.length; i++) {
    const end = Math.min(img.sizeBytes, (i + 1) * partBytes);
    if (end > size || end === kept) break;
    const probe = new PartHasher(end - kept);
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(partial, { start: kept, end: end - 1 })) {
      probe.update(c as Buffer);
      chunks.push(c as Buffer);
    }
    if (probe.digest().sha256 !== img.parts[i]) break;
    for (const c of chunks) hasher.update(c);
    kept = end;
  }
  return kept;
}

/** Fills `partial` with the image, keeping its leading parts that match; the whole is checked against its sha256. */
async function fill(
  partial: string,
  io: BundleIo,
  img: CopyItem,
  partBytes: number,
  signal: AbortSignal,
  report: (p: number) => void,
) {
  const hasher = new PartHasher(partBytes, (index, sha) => {
    if (img.parts[index] !== sha) throw new BundleDamagedError(img.object, img.source, `part ${index} changed`);
  });
  const kept = await keptBytes(partial, img, partBytes, hasher);
  const fh = await open(partial, kept ? 'r+' : 'w');
  try {
    await fh.truncate(kept);
    let at = kept;
    if (kept < img.sizeBytes)
      for await (const chunk of await io.stream(img.source, kept, signal)) {
        if (at + chunk.length > img.sizeBytes) throw new BundleDamagedError(img.object, img.source, 'it grew');
        hasher.update(chunk);
        for (let o = 0; o < chunk.length; o += BLOCK) {
          const block = chunk.subarray(o, o + BLOCK);
          if (!isZero(block)) await fh.write(block, 0, block.length, at + o);
        }
        at += chunk.length;
        report(img.sizeBytes ? at / img.sizeBytes : 1);
      }
    await fh.truncate(img.sizeBytes);
    await fh.sync();
    const { sha256 } = hasher.digest();
    if (hasher.bytes !== img.sizeBytes || sha256 !== img.sha256)
      throw new BundleDamagedError(img.object, img.source, `the copy has sha256 ${sha256}`);
    return { copiedBytes: img.sizeBytes - kept, keptBytes: kept };
  } finally {
    await fh.close();
  }
}

export interface Filled {
  copiedBytes: number;
  keptBytes: number;
  /** Placed under its name already (by an earlier run of this operation). */
  placed: boolean;
}

/**
 * First phase: the image's bytes into its partial file, beside where it goes; nothing takes an image's
 * name yet, so a copy cut short leaves partials only, which the next import of the same image resumes.
 */
export async function fillPartial(
  io: BundleIo,
  img: CopyItem,
  partBytes: number,
  ctx: TaskContext,
  report: (p: number) => void,
): Promise<Filled> {
  const storage = ctx.drivers.storage(img.target.repository.kind);
  const { repository, path } = img.target;
  if (await storage.exists(repository, path)) {
    // The same copy run again after it placed the image: its own image is whole.
    if ((await storage.owner(repository, path)) === ctx.operation)
      return { copiedBytes: 0, keptBytes: img.sizeBytes, placed: true };
    throw new ImageExistsError(await storage.resolve(repository, path));
  }
  const partial = partialOf(await storage.resolve(repository, path));
  await mkdir(dirname(partial), { recursive: true });
  return { ...(await fill(partial, io, img, partBytes, ctx.signal, report)), placed: false };
}

/** Second phase: the storage driver takes the partial (checked again, part by part) under the image's name. */
export async function placePartial(io: BundleIo, img: CopyItem, partBytes: number, ctx: TaskContext): Promise<void> {
  const storage = ctx.drivers.storage(img.target.repository.kind);
  await storage.receive(
    img.target.repository,
    img.target.path,
    (partial) => fill(partial, io, img, partBytes, ctx.signal, () => {}),
    {
      owner: ctx.operation,
    },
  );
}

export async function describeCopy(target: ImageRef, ctx: TaskContext) {
  const { filesystem, ...facts } = await describe(ctx.drivers, target, ctx, 'inspect');
  return { ...facts, filesystem };
}

/** Removes the image at `target` if this operation made it, and its partial; true when it removed the image. */
export async function discardImage(target: ImageRef, ctx: TaskContext): Promise<boolean> {
  const storage = ctx.drivers.storage(target.repository.kind);
  await rm(partialOf(await storage.resolve(target.repository, target.path)), { force: true });
  if (!(await storage.exists(target.repository, target.path))) return false;
  if ((await storage.owner(target.repository, target.path)) !== ctx.operation) return false;
  await storage.remove(target.repository, target.path);
  return true;
}

/** A first-phase failure, told with how to resume it (a stop of the agent is passed on as it is). */
export function resumable(e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  return new AgentError(
    typeof code === 'string' && code ? code : 'copy_failed',
    `${e.message}; no image was placed, and the parts copied so far are kept beside their places: send the same import again to resume it (a repository check removes them once no import claims them)`,
    { cause: e },
  );
}
