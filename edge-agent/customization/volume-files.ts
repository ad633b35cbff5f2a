/** The files of one volume as customization sees them: content and mode together, checked after each change. */
import { createHash } from 'node:crypto';
import type { ImageFilesystem, VolumeInfo } from '../drivers/imagefs/interface';
import { VerificationError } from './errors';

export interface FileState {
  /** null when the file does not exist. */
  content: Buffer | null;
  mode: number | null;
}

export const DEFAULT_MODE = 0o644;

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class VolumeFiles {
  constructor(private readonly a: { imagePath: string; fs: ImageFilesystem; volume: VolumeInfo }) {}

  async read(path: string): Promise<FileState> {
    const content = await this.a.fs.readFile(this.a.imagePath, this.a.volume, path);
    if (content === null) return { content: null, mode: null };
    return { content, mode: await this.a.fs.fileMode(this.a.imagePath, this.a.volume, path) };
  }

  /** Whether a directory (or anything else) is at `path`. */
  async exists(path: string): Promise<boolean> {
    return path === '/' || (await this.a.fs.fileMode(this.a.imagePath, this.a.volume, path)) !== null;
  }

  /** Writes the file, then reads it back: for item `index`, the content and mode must be exactly those written. */
  async write(index: number, path: string, content: Buffer, mode: number): Promise<void> {
    await this.a.fs.writeFile(this.a.imagePath, this.a.volume, path, content, mode);
    const after = await this.read(path);
    if (after.content === null) throw new VerificationError(index, path, 'is missing');
    if (!after.content.equals(content)) throw new VerificationError(index, path, `has sha256 ${sha256(after.content)} instead of ${sha256(content)}`);
    if (after.mode !== mode) throw new VerificationError(index, path, `has mode ${after.mode?.toString(8)} instead of ${mode.toString(8)}`);
  }

  async remove(index: number, path: string): Promise<void> {
    await this.a.fs.removeFile(this.a.imagePath, this.a.volume, path);
    if ((await this.read(path)).content !== null) throw new VerificationError(index, path, 'still exists');
  }
}
