/** The machine's serial console, as qemu writes it to a log file. */
import { promises as fs } from 'node:fs';

export async function readConsole(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The last `count` non-empty lines, to put a console excerpt into an error message. */
export function lastLines(text: string, count: number): string {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

/** Keeps this much already-read text, so a marker split across two reads is still found. */
const OVERLAP = 4096;

/**
 * Watches a growing console log for a marker, reading only the bytes added since the last look
 * (a machine that stays up for weeks keeps a long log).
 */
export class ConsoleWatcher {
  private offset = 0;
  private recent = '';

  constructor(
    private readonly file: string,
    private readonly marker: RegExp,
  ) {}

  /** True once the marker has appeared anywhere in the log. */
  async seen(): Promise<boolean> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size < this.offset) this.offset = 0; // truncated by a new start
      if (size === this.offset) return this.marker.test(this.recent);
      const chunk = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, this.offset);
      this.offset += bytesRead;
      const text = this.recent + chunk.subarray(0, bytesRead).toString('utf8');
      const found = this.marker.test(text);
      this.recent = text.slice(-OVERLAP);
      return found;
    } finally {
      await fh.close();
    }
  }
}
