/**
 * Copying one image of a bundle into its repository, resumably: the storage driver receives it into a
 * partial file, which survives a failure; the next copy of the same image keeps the partial's leading
 * parts that match their sha256 and fetches only the rest. Zero blocks are left as holes.
 */
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import type { ImageRef, TaskInput } from '../../statemachines/tasks';
import { partialOf } from '../drivers/storage/atomic';
import { BundleDamagedError } from '../errors';
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

export async function copyImage(
  io: BundleIo,
  img: CopyItem,
  partBytes: number,
  ctx: TaskContext,
  report: (p: number) => void,
): Promise<{ copiedBytes: number; keptBytes: number }> {
  const storage = ctx.drivers.storage(img.target.repository.kind);
  // The same copy run again after it placed the image: its own image is whole.
  if (
    (await storage.exists(img.target.repository, img.target.path)) &&
    (await storage.owner(img.target.repository, img.target.path)) === ctx.operation
  )
    return { copiedBytes: 0, keptBytes: img.sizeBytes };
  return storage.receive(
    img.target.repository,
    img.target.path,
    async (partial) => {
      const hasher = new PartHasher(partBytes, (index, sha) => {
        if (img.parts[index] !== sha) throw new BundleDamagedError(img.object, img.source, `part ${index} changed`);
      });
      const kept = await keptBytes(partial, img, partBytes, hasher);
      const fh = await open(partial, kept ? 'r+' : 'w');
      try {
        await fh.truncate(kept);
        let at = kept;
        if (kept < img.sizeBytes)
          for await (const chunk of await io.stream(img.source, kept, ctx.signal)) {
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
        const { sha256 } = hasher.digest();
        if (hasher.bytes !== img.sizeBytes || sha256 !== img.sha256)
          throw new BundleDamagedError(img.object, img.source, `the copy has sha256 ${sha256}`);
        return { copiedBytes: img.sizeBytes - kept, keptBytes: kept };
      } finally {
        await fh.close();
      }
    },
    { owner: ctx.operation },
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
