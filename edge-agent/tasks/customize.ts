/** Offline customization of a clone's filesystem: staged apply and rollback, with undo records. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { templateSecretRef } from '../../statemachines/customization';
import { applyCustomization, rollbackCustomization } from '../customization/apply';
import { fetchDocument } from '../customization/document';
import { FileUndoStore } from '../customization/undo-store';
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { NoFilesystemError } from '../errors';
import type { ImageInput, Task, TaskContext } from './context';

/** The image's path, its filesystem, and its undo records, which live in its sidecar and travel with it. */
async function open(
  img: ImageInput,
  ctx: TaskContext,
): Promise<{ path: string; fs: ImageFilesystem; volume: VolumeInfo; undo: FileUndoStore }> {
  const storage = ctx.drivers.storage(img.repository.kind);
  const path = await storage.resolve(img.repository, img.path, true);
  const undo = new FileUndoStore(join(await storage.sidecar(img.repository, img.path), 'undo'));
  for (const fs of ctx.drivers.imagefs) {
    const volume = await fs.detect(path);
    if (volume) return { path, fs, volume, undo };
  }
  throw new NoFilesystemError(img.path, img.format);
}

export const customize: Task<'customize'> = async (input, ctx) => {
  const { image, customization, from, to } = input;
  if (from === to) return { applied: from, changes: [] };
  const { items, variables } = await fetchDocument(customization, ctx.signal);
  const { path, fs, volume, undo } = await open(image, ctx);
  const storage = ctx.drivers.storage(image.repository.kind);
  return applyCustomization({
    imagePath: path,
    fs,
    volume,
    items,
    variables,
    from,
    to,
    undo,
    readSource: async (source) => readFile(await storage.resolve(image.repository, source, true)),
    readSecret: ctx.site ? (name) => ctx.secrets.resolve(templateSecretRef(ctx.site!, name)) : undefined,
    onProgress: (done, total) => ctx.report(total ? done / total : 1, 'customize'),
  });
};

export const rollback: Task<'rollback'> = async (input, ctx) => {
  const { image, from, to } = input;
  if (from === to) return { applied: from };
  const { path, fs, volume, undo } = await open(image, ctx);
  return rollbackCustomization({ imagePath: path, fs, volume, from, to, undo });
};
