/** The backing file a qcow2 image reads through to, and keeping it pointed at its master. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UnreachableBackingError } from './errors';
import { runChecked } from './exec';
import { detectFormat } from './format';

/**
 * The backing file named in the qcow2 header of `file`, resolved as qemu resolves it (a relative name
 * from the image's directory); undefined for a qcow2 without one. Reads the header only.
 */
export async function backingOf(file: string): Promise<string | undefined> {
  const { output } = await runChecked('qemu-img', ['info', '--output=json', '-f', 'qcow2', file]);
  const info = JSON.parse(output) as { 'backing-filename'?: string; 'full-backing-filename'?: string };
  const named = info['full-backing-filename'] ?? info['backing-filename'];
  return named === undefined ? undefined : path.resolve(path.dirname(file), named);
}

const realOrNull = (p: string) => fs.realpath(p).catch(() => null);

/**
 * Makes the qcow2 `file` read through to `master` (absolute) if its backing file does not resolve to it
 * from where `file` is: `qemu-img rebase -u` rewrites the header only, which is right because the
 * master's bytes are the ones the image was made on. Without `master`, a backing file that does not
 * resolve is UnreachableBackingError. Returns whether the header was rewritten. `name` names the image in errors.
 */
export async function keepBacking(
  file: string,
  name: string,
  master: string | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const backing = await backingOf(file);
  if (backing === undefined) return false;
  const resolved = await realOrNull(backing);
  if (!master) {
    if (resolved) return false;
    throw new UnreachableBackingError(name, backing);
  }
  const wanted = await realOrNull(master);
  if (!wanted) throw new UnreachableBackingError(name, master);
  if (resolved === wanted) return false;
  const args = ['rebase', '-u', '-f', 'qcow2', '-b', master, '-F', await detectFormat(master), file];
  await runChecked('qemu-img', args, { signal, what: { operation: 'Rebasing', path: name } });
  return true;
}
