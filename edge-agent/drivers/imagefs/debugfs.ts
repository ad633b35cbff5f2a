/**
 * Runs debugfs (e2fsprogs) on an image, never through a shell: commands go to a command file
 * (`debugfs -f`), arguments quoted the way debugfs' command-line parser (libss) reads them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ToolFailedError, ToolMissingError } from '../errors';
import { UnsupportedImageError } from './errors';

const execFileAsync = promisify(execFile);
const TIMEOUT_MS = 10 * 60 * 1000;

export interface DebugfsOutput {
  /** Standard output split per command: element i is what command i printed. */
  sections: string[];
  /** Error lines debugfs printed (its version banner removed). */
  errors: string[];
}

/**
 * libss reads `"…"` as one argument, with `""` standing for a literal quote inside it. A command file
 * is read line by line, so line breaks and NUL cannot be passed at all.
 */
export function quoteArg(value: string): string {
  if (/[\0\n\r]/.test(value))
    throw new Error(`debugfs cannot be given ${JSON.stringify(value)}: it has a NUL or line break`);
  return `"${value.replaceAll('"', '""')}"`;
}

/** debugfs (libext2fs) reads `?offset=N` after the image name to open a filesystem inside a partition. */
export function deviceName(imagePath: string, offsetBytes: number): string {
  if (imagePath.includes('?')) {
    throw new UnsupportedImageError(
      imagePath,
      "its path contains '?', which e2fsprogs reads as the start of options; rename or link the image",
    );
  }
  return offsetBytes === 0 ? imagePath : `${imagePath}?offset=${offsetBytes}`;
}

/** A private temporary directory for command files and file contents, removed afterwards. */
export async function withWorkDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'encompass-debugfs-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runDebugfs(
  a: { imagePath: string; offsetBytes: number; workDir: string; writable: boolean },
  commands: string[],
): Promise<DebugfsOutput> {
  const device = deviceName(a.imagePath, a.offsetBytes);
  const commandFile = join(a.workDir, 'commands');
  await writeFile(commandFile, `${commands.join('\n')}\n`);
  const args = [...(a.writable ? ['-w'] : []), '-f', commandFile, device];
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await execFileAsync('debugfs', args, {
      env: { ...process.env, DEBUGFS_PAGER: '__none__', PAGER: '__none__', LANG: 'C', LC_ALL: 'C' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: TIMEOUT_MS,
    }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ToolMissingError('debugfs', 'e2fsprogs', { cause: error });
    const output = (error as { stderr?: string }).stderr ?? String(error);
    throw new ToolFailedError('debugfs', output, { imagePath: a.imagePath }, { cause: error });
  }
  const errors = stderr.split('\n').filter((line) => line.trim() !== '' && !/^debugfs \d+\.\d+/.test(line));
  if (errors.some((line) => /while trying to open|Filesystem not open/.test(line))) {
    throw new UnsupportedImageError(
      a.imagePath,
      `debugfs cannot open the filesystem at offset ${a.offsetBytes} (${errors[0]?.trim()})`,
    );
  }
  return { sections: splitSections(stdout, commands.length), errors };
}

/** With `-f`, debugfs echoes each command as `debugfs: <command>` before its output. */
function splitSections(stdout: string, count: number): string[] {
  const sections: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('debugfs: ')) sections.push('');
    else if (sections.length > 0) sections[sections.length - 1] += `${line}\n`;
  }
  while (sections.length < count) sections.push('');
  return sections;
}
