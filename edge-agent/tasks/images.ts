/** Import, clone, capture and destroy: the storage side of a clone's life. */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CopyOptions, RepositoryRef } from '../drivers/storage/interface';
import { AgentError, ChecksumMismatchError } from '../errors';
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
  const { pull, ...img } = input;
  ctx.seen(img.repository);
  if (pull) {
    const dest = await ctx.drivers.storage(img.repository.kind).resolve(img.repository, img.path);
    const done = await stat(dest).then(
      () => true,
      () => false,
    );
    // A retry after the pull finished finds the image in place.
    if (!done) {
      await mkdir(dirname(dest), { recursive: true });
      await pullInto(dest, pull, (p) => ctx.report(p * 0.5, 'pull'), ctx.signal);
    }
  }
  return describe(ctx.drivers, img, ctx, 'inspect');
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
  // `auto` takes the fastest method that makes a standalone raw image: only those can be customized
  // offline and exported as a LUN. A linked clone (overlay) is made when asked for by name.
  const chosen = method === 'auto' ? (await storage.methods(target.repository)).find((m) => m !== 'overlay') : method;
  if (!chosen)
    throw new AgentError('unsupported_method', `repository ${target.repository.path} supports no clone method`);
  const path = `${target.path}${chosen === 'overlay' ? '.qcow2' : '.img'}`;
  // A clone redone after the agent died between making it and reporting it finds it complete
  // (it was renamed into place only when whole): describe it instead of failing on the name.
  const dst = await storage.resolve(target.repository, path);
  if (
    await stat(dst).then(
      () => true,
      () => false,
    )
  ) {
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

/** Storage that can turn a linked clone into a standalone raw image. */
interface Flattening {
  flatten(repo: RepositoryRef, rel: string, dstRel: string, opts?: CopyOptions): Promise<unknown>;
}
const canFlatten = (d: object): d is Flattening => typeof (d as Partial<Flattening>).flatten === 'function';

/**
 * The clone becomes the master: a full image is moved to the master's path; a linked clone (qcow2
 * overlay) is flattened into a standalone raw image first, so the new master needs no parent file.
 */
export const captureImage: Task<'capture'> = async (input, ctx) => {
  const { image, target } = input;
  const storage = ctx.drivers.storage(image.repository.kind);
  const to = await storage.resolve(image.repository, target);
  const from = await storage.resolve(image.repository, image.path);
  const exists = (p: string) =>
    stat(p).then(
      () => true,
      () => false,
    );
  // A retry finds the master already made, and only finishes removing the clone's file.
  if (!(await exists(to))) {
    await mkdir(dirname(to), { recursive: true });
    if (image.format === 'qcow2') {
      if (!canFlatten(storage))
        throw new AgentError('unsupported_capture', `${image.repository.kind} storage cannot flatten a linked clone`);
      await storage.flatten(image.repository, image.path, target, {
        onProgress: (d, t) => ctx.report(t ? (d / t) * 0.5 : 0, 'flatten'),
        signal: ctx.signal,
      });
    } else await rename(from, to);
  }
  if (await exists(from)) await storage.remove(image.repository, image.path);
  await rm(`${from}.encompass`, { recursive: true, force: true });
  return describe(ctx.drivers, { repository: image.repository, path: target }, ctx, 'inspect');
};

export const destroyImage: Task<'destroy'> = async (input, ctx) => {
  const { image } = input;
  await ctx.drivers.storage(image.repository.kind).remove(image.repository, image.path);
  return { removed: image.path };
};
