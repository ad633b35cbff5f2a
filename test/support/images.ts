/** Small real disk images for API tests, made with mkfs.ext4 from a directory tree. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function makeExt4(image: string, files: Record<string, string>, sizeMiB = 16): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'encompass-root-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, dirname(path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await mkdir(dirname(image), { recursive: true });
  try {
    await run('mkfs.ext4', ['-q', '-F', '-d', root, image, `${sizeMiB}M`]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function debugfsCat(image: string, path: string): Promise<string> {
  const { stdout } = await run('debugfs', ['-R', `cat ${path}`, image]);
  return stdout;
}

export const baseFiles = {
  'etc/hostname': 'template\n',
  'etc/hosts': '127.0.0.1 localhost\n127.0.1.1 template\n',
};

/** The hostname customization most tests give their masters. */
export const hostnameItems = [
  { type: 'file', path: '/etc/hostname', content: '${hostname}\n' },
  {
    type: 'replace',
    path: '/etc/hosts',
    pattern: '^127\\.0\\.1\\.1 .*$',
    replacement: '127.0.1.1 ${hostname}',
    flags: 'm',
  },
];
