/** Import, clone, relocate, capture and destroy: the storage side of a clone's life. */
import { readPartitionTable } from '../drivers/imagefs/partitions';
import type { StorageDriver } from '../drivers/storage/interface';
import { ChecksumMismatchError, UnrecognizedImageError } from '../errors';
import type { Drivers } from '../registry';
import type { ImageInput, Task, TaskContext } from './context';
import { pullInto } from './pull';

export async function describe(drivers: Drivers, img: ImageInput, ctx: TaskContext, step: string) {
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
  // A retry after the pull finished finds its own image in place; an image someone else put there is refused.
  const pulled = pull && (await ownImage(storage, img, ctx));
  if (pull && !pulled)
    await storage.receive(
      img.repository,
      img.path,
      (partial, dest) => pullInto(partial, dest, pull, (p) => ctx.report(p * 0.5, 'pull'), ctx.signal),
      { owner: ctx.operation },
    );
  try {
    return await inspectImport(ctx, img, format);
  } catch (e) {
    // An image this import pulled in is its own to remove; one that was already there is the operator's.
    // A stop of the agent keeps it: the task resumes and finds it.
    if (pull && !ctx.signal.aborted) await storage.remove(img.repository, img.path);
    throw e;
  }
};

async function ownImage(storage: StorageDriver, img: ImageInput, ctx: TaskContext): Promise<boolean> {
  return (
    (await storage.exists(img.repository, img.path)) &&
    (await storage.owner(img.repository, img.path)) === ctx.operation
  );
}

async function inspectImport(ctx: TaskContext, img: ImageInput, format: 'raw' | undefined) {
  const storage = ctx.drivers.storage(img.repository.kind);
  const described = await describe(ctx.drivers, img, ctx, 'inspect');
  // Bytes with no filesystem and no partition table may be anything: a raw disk only when the request says so.
  if (described.format === 'raw' && !described.filesystem && format !== 'raw') {
    const abs = await storage.resolve(img.repository, img.path, true);
    if ((await readPartitionTable(abs)).scheme === 'none') throw new UnrecognizedImageError(img.path);
  }
  return described;
}

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
  const image = { repository: target.repository, path };
  // The same clone run again (the agent died between making it and reporting it) finds its own image,
  // complete since it took its name only when whole: described, it is the outcome. An image that this
  // operation did not make keeps its name: the clone below fails with image_exists.
  if (await ownImage(storage, image, ctx)) {
    const info = await storage.inspect(target.repository, path, { signal: ctx.signal });
    if (info.format === 'qcow2') return { ...info, method: chosen, path, backing: source.path };
    if (!sha256 || info.sha256 === sha256) return { ...info, method: chosen, path };
  }
  const out = await storage.clone(target.repository, source.path, path, chosen, {
    onProgress: (d, t) => ctx.report(t ? d / t : 0, 'copy'),
    signal: ctx.signal,
    sourcePath,
    sourceSha256: sha256,
    owner: ctx.operation,
  });
  // A linked clone's file is a qcow2 overlay: its own sha256 is not the master's.
  if (sha256 && !out.backing && out.sha256 !== sha256) {
    await storage.remove(target.repository, path);
    throw new ChecksumMismatchError(path, sha256, out.sha256);
  }
  return { ...out, path };
};

/**
 * The clone's image is copied into another repository, verified, with its undo records; a linked clone's
 * copy reads through to its master. The source stays: the workflow removes it once the record names the
 * copy. A retry finds the copy it made complete (it took its name only when whole): described, it is the outcome.
 */
export const relocateImage: Task<'relocate'> = async (input, ctx) => {
  const { source, target, backing } = input;
  ctx.seen(target.repository);
  const from = ctx.drivers.storage(source.repository.kind);
  const to = ctx.drivers.storage(target.repository.kind);
  if (await ownImage(to, target, ctx))
    return { ...(await to.inspect(target.repository, target.path, { signal: ctx.signal })), path: target.path };
  const src = {
    path: await from.resolve(source.repository, source.path, true),
    sidecar: await from.sidecar(source.repository, source.path),
  };
  const master =
    backing && (await ctx.drivers.storage(backing.repository.kind).resolve(backing.repository, backing.path, true));
  const out = await to.copyIn(target.repository, target.path, src, {
    onProgress: (d, t) => ctx.report(t ? d / t : 0, 2 * d < t ? 'copy' : 'verify'),
    signal: ctx.signal,
    owner: ctx.operation,
    ...(master ? { backing: master } : {}),
  });
  return { ...out, path: target.path };
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
