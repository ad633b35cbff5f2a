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

  /**
   * Writes the file. The driver reads it back and compares content and mode (the interface requires
   * it), so reading it again here would only double the work; its error names item `index`.
   */
  async write(index: number, path: string, content: Buffer, mode: number): Promise<void> {
    await this.verified(index, path, () => this.a.fs.writeFile(this.a.imagePath, this.a.volume, path, content, mode));
  }

  async remove(index: number, path: string): Promise<void> {
    await this.verified(index, path, () => this.a.fs.removeFile(this.a.imagePath, this.a.volume, path));
  }

  private async verified(index: number, path: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (e) {
      if ((e as { code?: string }).code === 'write_verification_failed')
        throw new VerificationError(index, path, `did not read back as written (${(e as Error).message})`, {
          cause: e,
        });
      throw e;
    }
  }
}
