/** The clone methods of a file repository and the discovery of which ones a repository supports. */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { UnsupportedMethodError } from '../errors';
import { run } from '../exec';
import { TEMP_PREFIX } from '../paths';
import { copyMethod } from './copy';
import { overlayMethod } from './overlay';
import { isReflinkRefusal, reflinkMethod } from './reflink';
import { sparseMethod } from './sparse';
import type { CloneMethod } from './types';

/** Fastest first: this order is what `methods()` reports and what `auto` picks from. */
export const CLONE_METHODS: readonly CloneMethod[] = [reflinkMethod, overlayMethod, sparseMethod, copyMethod];

export const AUTO = 'auto';

export function cloneMethod(name: string): CloneMethod | undefined {
  return CLONE_METHODS.find((m) => m.name === name);
}

/** Whether `name` makes a linked clone; methods of other drivers (`san`) make standalone images. */
export function isLinked(name: string): boolean {
  return cloneMethod(name)?.linked ?? false;
}

/**
 * What `auto` stands for among `offered` (fastest first): the first method that makes a standalone image,
 * since only those can be customized offline and exported as a LUN. A linked clone is made when named.
 */
export function autoMethod(offered: string[]): string {
  const method = offered.find((name) => !isLinked(name));
  if (!method) throw new UnsupportedMethodError(AUTO, offered);
  return method;
}

/** `<base>.qcow2` for a linked clone, `<base>.img` for a standalone one. */
export function cloneNameOf(base: string, method: string): string {
  return `${base}${isLinked(method) ? '.qcow2' : '.img'}`;
}

/**
 * Clones a 4 KiB probe file inside `root` with FICLONE. Returns undefined when the probe could not even be
 * written (read-only or full repository): nothing is learnt about reflink then, and nothing is cached.
 */
async function probeReflink(root: string): Promise<boolean | undefined> {
  const probe = path.join(root, `${TEMP_PREFIX}reflink-probe-${randomBytes(6).toString('hex')}`);
  const probeClone = `${probe}-clone`;
  try {
    await fs.writeFile(probe, Buffer.alloc(4096, 1), { flag: 'wx' });
  } catch {
    await fs.rm(probe, { force: true });
    return undefined;
  }
  try {
    await fs.copyFile(probe, probeClone, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (err) {
    return isReflinkRefusal(err) ? false : undefined;
  } finally {
    await fs.rm(probe, { force: true });
    await fs.rm(probeClone, { force: true });
  }
}

async function qemuImgPresent(): Promise<boolean> {
  return run('qemu-img', ['--version']).then(
    (r) => r.exitCode === 0,
    () => false,
  );
}

/**
 * Finds which methods a repository supports, probing once per repository root and once for qemu-img;
 * the answers are kept for the lifetime of this object (the agent holds one driver per process).
 */
export class MethodDiscovery {
  private readonly reflinkByRoot = new Map<string, Promise<boolean | undefined>>();
  private qemuImg: Promise<boolean> | undefined;

  async supported(root: string): Promise<string[]> {
    let reflink = this.reflinkByRoot.get(root);
    if (!reflink) {
      reflink = probeReflink(root);
      this.reflinkByRoot.set(root, reflink);
    }
    const canReflink = await reflink;
    if (canReflink === undefined) this.reflinkByRoot.delete(root);
    this.qemuImg ??= qemuImgPresent();
    const present = { reflink: canReflink === true, overlay: await this.qemuImg, sparse: true, copy: true };
    return CLONE_METHODS.map((m) => m.name).filter((name) => present[name as keyof typeof present]);
  }
}
