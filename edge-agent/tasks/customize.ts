/** Offline customization of a clone's filesystem: staged apply and rollback, with undo records. */
import { readFile } from 'node:fs/promises';
import { applyCustomization, rollbackCustomization } from '../customization/apply';
import { FileUndoStore } from '../customization/undo-store';
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { NoFilesystemError } from '../errors';
import type { ImageInput, Task, TaskContext } from './context';

/** Undo records live beside the image, in its sidecar directory, and travel with it. */
const undoDir = (imagePath: string) => `${imagePath}.encompass/undo`;

async function open(
  img: ImageInput,
  ctx: TaskContext,
): Promise<{ path: string; fs: ImageFilesystem; volume: VolumeInfo }> {
  const storage = ctx.drivers.storage(img.repository.kind);
  const path = await storage.resolve(img.repository, img.path, true);
  for (const fs of ctx.drivers.imagefs) {
    const volume = await fs.detect(path);
    if (volume) return { path, fs, volume };
  }
  throw new NoFilesystemError(img.path, img.format);
}

export const customize: Task<'customize'> = async (input, ctx) => {
  const { image, items, variables, from, to } = input;
  if (from === to) return { applied: from, changes: [] };
  const { path, fs, volume } = await open(image, ctx);
  const storage = ctx.drivers.storage(image.repository.kind);
  return applyCustomization({
    imagePath: path,
    fs,
    volume,
    items,
    variables,
    from,
    to,
    undo: new FileUndoStore(undoDir(path)),
    readSource: async (source) => readFile(await storage.resolve(image.repository, source, true)),
    onProgress: (done, total) => ctx.report(total ? done / total : 1, 'customize'),
  });
};

export const rollback: Task<'rollback'> = async (input, ctx) => {
  const { image, from, to } = input;
  if (from === to) return { applied: from };
  const { path, fs, volume } = await open(image, ctx);
  return rollbackCustomization({ imagePath: path, fs, volume, from, to, undo: new FileUndoStore(undoDir(path)) });
};
