/** Import, clone, capture and destroy: the storage side of a clone's life. */
import { readPartitionTable } from '../drivers/imagefs/partitions';
import { ChecksumMismatchError, UnrecognizedImageError } from '../errors';
import type { Drivers } from '../registry';
import type { ImageInput, Task, TaskContext } from './context';
import { pullInto } from './pull';

async function describe(drivers: Drivers, img: ImageInput, ctx: TaskContext, step: string) {
  const storage = drivers.storage(img.repository.kind);
  const abs = await storage.resolve(img.repository, img.path, true);
  const info = await storage.inspect(img.repository, img.path, {
    onProgress: (d, t) => ctx.report(t ? (d / t) * 0.95 : 0, step),
    signal: ctx.signal,
  });
  let filesystem = null;
  if (info.format === 'raw')
    for (const fs of drivers.imagefs) {
      filesystem = await fs.detect(abs);
      if (filesystem) break;
    }
  return { ...info, filesystem, path: img.path };
}

export const importImage: Task<'import'> = async (input, ctx) => {
  const { pull, format, ...img } = input;
  ctx.seen(img.repository);
  const storage = ctx.drivers.storage(img.repository.kind);
  // A retry after the pull finished finds the image in place.
  if (pull && !(await storage.exists(img.repository, img.path)))
    await storage.receive(img.repository, img.path, (partial, dest) =>
      pullInto(partial, dest, pull, (p) => ctx.report(p * 0.5, 'pull'), ctx.signal),
    );
  const described = await describe(ctx.drivers, img, ctx, 'inspect');
  // Bytes with no filesystem and no partition table may be anything: a raw disk only when the request says so.
  if (described.format === 'raw' && !described.filesystem && format !== 'raw') {
    const abs = await storage.resolve(img.repository, img.path, true);
    if ((await readPartitionTable(abs)).scheme === 'none') {
      // An image this import pulled in is its own to remove; one that was already there is the operator's.
      if (pull) await storage.remove(img.repository, img.path);
      throw new UnrecognizedImageError(img.path);
    }
  }
  return described;
};

export const cloneImage: Task<'clone'> = async (input, ctx) => {
  const { source, target, method, sha256 } = input;
  ctx.seen(target.repository);
  const storage = ctx.drivers.storage(target.repository.kind);
  // A master in another repository of this host: its own driver resolves and checks the path.
  const sourcePath =
    source.repository.id === target.repository.id
      ? undefined
      : await ctx.drivers.storage(source.repository.kind).resolve(source.repository, source.path, true);
  const chosen = await storage.chooseMethod(target.repository, method);
  const path = storage.cloneName(target.path, chosen);
  // A clone redone after the agent died between making it and reporting it finds it complete
  // (it was renamed into place only when whole): describe it instead of failing on the name.
  if (await storage.exists(target.repository, path)) {
    const info = await storage.inspect(target.repository, path, { signal: ctx.signal });
    if (info.format === 'qcow2') return { ...info, method: chosen, path, backing: source.path };
    if (!sha256 || info.sha256 === sha256) return { ...info, method: chosen, path };
  }
  const out = await storage.clone(target.repository, source.path, path, chosen, {
    onProgress: (d, t) => ctx.report(t ? d / t : 0, 'copy'),
    signal: ctx.signal,
    sourcePath,
    sourceSha256: sha256,
  });
  // A linked clone's file is a qcow2 overlay: its own sha256 is not the master's.
  if (sha256 && !out.backing && out.sha256 !== sha256) {
    await storage.remove(target.repository, path);
    throw new ChecksumMismatchError(path, sha256, out.sha256);
  }
  return { ...out, path };
};

/** The clone becomes the master (a linked clone flattened on the way); a retry only finishes the cleanup. */
export const captureImage: Task<'capture'> = async (input, ctx) => {
  const { image, target } = input;
  await ctx.drivers.storage(image.repository.kind).capture(image.repository, image.path, target, {
    onProgress: (d, t) => ctx.report(t ? (d / t) * 0.5 : 0, 'flatten'),
    signal: ctx.signal,
  });
  return describe(ctx.drivers, { repository: image.repository, path: target }, ctx, 'inspect');
};

export const destroyImage: Task<'destroy'> = async (input, ctx) => {
  const { image } = input;
  await ctx.drivers.storage(image.repository.kind).remove(image.repository, image.path);
  return { removed: image.path };
};
