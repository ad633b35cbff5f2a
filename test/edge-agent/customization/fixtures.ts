// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} in plain strings is the customization syntax under test.
/** A real ext4 image with the seed tree, an undo store, and ways to look at both, for customization tests. */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CustomizationItem } from '../../../edge-agent/customization/items';
import { FileUndoStore } from '../../../edge-agent/customization/undo-store';
import { ExtImageFilesystem } from '../../../edge-agent/drivers/imagefs/ext';
import type { ImageFilesystem, VolumeInfo } from '../../../edge-agent/drivers/imagefs/interface';
import { writeSeedTree } from '../drivers/imagefs/imagefs.case';
import { type Layout, makeExtImage, tempDir } from '../drivers/imagefs/images';

/** Sets the hostname, names it in /etc/hosts, and creates /etc/motd (absent from the seed tree). */
export const ITEMS: CustomizationItem[] = [
  { type: 'file', path: '/etc/hostname', content: '${hostname}\n' },
  {
    type: 'replace',
    path: '/etc/hosts',
    pattern: '^127\\.0\\.1\\.1\\s.*$',
    replacement: '127.0.1.1\t${hostname}.${domain}',
    flags: 'm',
  },
  { type: 'file', path: '/etc/motd', content: 'Welcome to ${hostname}\n', mode: 0o600 },
];
export const VARIABLES = { hostname: 'web-01', domain: 'example.org' };

export interface Clone {
  imagePath: string;
  fs: ImageFilesystem;
  volume: VolumeInfo;
  undoDir: string;
  undo: FileUndoStore;
  /** sha256 and mode of each path (null when missing). */
  files(paths: string[]): Promise<Record<string, { sha256: string; mode: number } | null>>;
  text(path: string): Promise<string | null>;
  imageSha256(): Promise<string>;
  undoRecords(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Counts the driver's writes and removals, and can fail one of them to stand in for a crash. */
export class RecordingFilesystem implements ImageFilesystem {
  readonly name: string;
  changes = 0;
  private crashIn = 0;

  constructor(private readonly inner: ImageFilesystem) {
    this.name = inner.name;
  }

  detect(imagePath: string) {
    return this.inner.detect(imagePath);
  }
  readFile(imagePath: string, volume: VolumeInfo, fsPath: string) {
    return this.inner.readFile(imagePath, volume, fsPath);
  }
  fileMode(imagePath: string, volume: VolumeInfo, fsPath: string) {
    return this.inner.fileMode(imagePath, volume, fsPath);
  }
  async writeFile(imagePath: string, volume: VolumeInfo, fsPath: string, content: Buffer, mode?: number) {
    this.change();
    return this.inner.writeFile(imagePath, volume, fsPath, content, mode);
  }
  async removeFile(imagePath: string, volume: VolumeInfo, fsPath: string) {
    this.change();
    return this.inner.removeFile(imagePath, volume, fsPath);
  }

  /** The `nth` write or removal from now throws instead of reaching the image. */
  crashAtChange(nth: number): void {
    this.crashIn = nth;
  }

  private change(): void {
    if (this.crashIn > 0 && --this.crashIn === 0) throw new Error('simulated crash before the change');
    this.changes++;
  }
}

export async function makeClone(layout: Layout = 'bare'): Promise<Clone & { recording: RecordingFilesystem }> {
  const image = await makeExtImage({ layout, seed: writeSeedTree });
  const undoDir = await tempDir('encompass-undo-');
  const recording = new RecordingFilesystem(new ExtImageFilesystem());
  const volume = await recording.detect(image.imagePath);
  if (!volume) throw new Error(`no ext volume found in the test image ${image.imagePath}`);
  const { imagePath } = image;
  return {
    imagePath,
    fs: recording,
    recording,
    volume,
    undoDir,
    undo: new FileUndoStore(undoDir),
    async files(paths) {
      const result: Record<string, { sha256: string; mode: number } | null> = {};
      for (const path of paths) {
        const content = await recording.readFile(imagePath, volume, path);
        result[path] = content && {
          sha256: sha256(content),
          mode: (await recording.fileMode(imagePath, volume, path))!,
        };
      }
      return result;
    },
    async text(path) {
      return (await recording.readFile(imagePath, volume, path))?.toString() ?? null;
    },
    async imageSha256() {
      return sha256(await readFile(imagePath));
    },
    async undoRecords() {
      return (await readdir(undoDir)).sort();
    },
    async cleanup() {
      await image.cleanup();
      await rm(undoDir, { recursive: true, force: true });
    },
  };
}

export const undoPath = (clone: Clone, index: number) => join(clone.undoDir, `item-${index}.json`);
