// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} in plain strings is the customization syntax under test.
/** A real ext4 image with the seed tree, an undo store, and ways to look at both, for customization tests. */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CustomizationItem } from '../../../edge-agent/customization/items';
import { FileUndoStore } from '../../../edge-agent/customization/undo-store';
import { ExtImageFilesystem } from '../../../edge-agent/drivers/imagefs/ext';
import type {
  FileChange,
  FileSnapshot,
  ImageFilesystem,
  VolumeInfo,
} from '../../../edge-agent/drivers/imagefs/interface';
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

/**
 * Counts the driver's passes and file changes, and can stand in for a crash: the `nth` change from
 * now fails, after the changes before it in the same pass were made (a crash part-way through the
 * pass). After `dieAtChange`, every later call fails too, as nothing happens after the agent died.
 */
export class RecordingFilesystem implements ImageFilesystem {
  readonly name: string;
  /** Files written or removed. */
  changes = 0;
  /** Calls of readFiles and writeFiles. */
  reads = 0;
  writes = 0;
  private crashIn = 0;
  private dies = false;
  private dead = false;

  constructor(private readonly inner: ImageFilesystem) {
    this.name = inner.name;
  }

  detect(imagePath: string) {
    return this.inner.detect(imagePath);
  }
  readFile(imagePath: string, volume: VolumeInfo, fsPath: string) {
    this.alive();
    return this.inner.readFile(imagePath, volume, fsPath);
  }
  fileMode(imagePath: string, volume: VolumeInfo, fsPath: string) {
    this.alive();
    return this.inner.fileMode(imagePath, volume, fsPath);
  }
  async writeFile(imagePath: string, volume: VolumeInfo, fsPath: string, content: Buffer, mode?: number) {
    await this.writeFiles(imagePath, volume, [{ path: fsPath, content, mode: mode ?? 0o644 }]);
  }
  async removeFile(imagePath: string, volume: VolumeInfo, fsPath: string) {
    await this.writeFiles(imagePath, volume, [{ path: fsPath, content: null }]);
  }
  readFiles(imagePath: string, volume: VolumeInfo, paths: readonly string[]) {
    this.alive();
    this.reads++;
    return this.inner.readFiles(imagePath, volume, paths);
  }
  async writeFiles(imagePath: string, volume: VolumeInfo, changes: readonly FileChange[], basis?: FileSnapshot) {
    this.alive();
    this.writes++;
    let made = changes;
    if (this.crashIn > changes.length) this.crashIn -= changes.length;
    else if (this.crashIn > 0) {
      made = changes.slice(0, this.crashIn - 1);
      this.crashIn = 0;
    }
    this.changes += made.length;
    if (made.length > 0) await this.inner.writeFiles(imagePath, volume, made, basis);
    if (made !== changes) {
      this.dead = this.dies;
      throw new Error('simulated crash before the change');
    }
  }

  /** The `nth` write or removal from now fails, and the ones after it in its pass are not made. */
  crashAtChange(nth: number): void {
    this.crashIn = nth;
  }

  /** As crashAtChange, and nothing works afterwards, until `revive`. */
  dieAtChange(nth: number): void {
    this.crashIn = nth;
    this.dies = true;
  }

  /** A new agent process takes over. */
  revive(): void {
    this.dead = false;
    this.dies = false;
  }

  private alive(): void {
    if (this.dead) throw new Error('simulated crash: the agent is gone');
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
