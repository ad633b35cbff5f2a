import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DiskFullError, ImageExistsError, ImageNotFoundError, UnsupportedMethodError } from './errors';
import type { DiskRef } from '../disk';
import { detectFormat, validateImage } from './format';
import type { CloneOutcome, CopyOptions, ImageInfo, RepositoryRef, StorageDriver } from './interface';
import { realRoot, resolveInside, SIDECAR_SUFFIX, TEMP_PREFIX } from './paths';
import { hashFile, sparseCopy, syncDirectory } from './sparse-copy';

const METHODS = ['copy'];
/** How deep cleanupTemp looks below the repository root (images live a few directories down at most). */
const CLEANUP_DEPTH = 4;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function lstatOrNull(p: string) {
  return fs.lstat(p).catch((err) => {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  });
}

/** Removes `dir` and its parents up to and including `top`, stopping at the first that is not empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    if (!(await fs.rmdir(d).then(() => true, () => false))) return;
    if (d === top) return;
  }
}

/** A repository is a directory (local disk or NAS export); clones are sparse-aware full copies. */
export class FileStorageDriver implements StorageDriver {
  readonly kind = 'file';

  async methods(_repo: RepositoryRef): Promise<string[]> {
    return [...METHODS];
  }

  async resolve(repo: RepositoryRef, rel: string, mustExist = false): Promise<string> {
    const abs = await resolveInside(repo.path, rel);
    if (mustExist) {
      const st = await fs.stat(abs).catch((err) => {
        throw new ImageNotFoundError(abs, { cause: err });
      });
      if (!st.isFile()) throw new ImageNotFoundError(abs);
    }
    return abs;
  }

  async inspect(repo: RepositoryRef, rel: string, opts: CopyOptions = {}): Promise<ImageInfo> {
    const abs = await this.resolve(repo, rel, true);
    const st = await fs.stat(abs);
    const format = await validateImage(abs, st.size);
    const sha256 = await hashFile(abs, st.size, opts);
    return { sizeBytes: st.size, allocatedBytes: st.blocks * 512, sha256, format };
  }

  async clone(repo: RepositoryRef, src: string, dst: string, method: string, opts: CopyOptions = {}): Promise<CloneOutcome> {
    if (!METHODS.includes(method)) throw new UnsupportedMethodError(method, METHODS);
    const srcAbs = await this.resolve(repo, src, true);
    const dstAbs = await this.resolve(repo, dst);
    if (await lstatOrNull(dstAbs)) throw new ImageExistsError(dstAbs);

    const srcStat = await fs.stat(srcAbs);
    const format = await validateImage(srcAbs, srcStat.size);
    const needed = srcStat.blocks * 512;
    const free = await this.freeBytes(repo);
    if (free < needed) throw new DiskFullError(repo.path, needed, free);

    const dir = path.dirname(dstAbs);
    const madeDir = await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(dstAbs)}`);
    try {
      const { sha256, sizeBytes } = await sparseCopy(srcAbs, tmp, opts);
      // A concurrent writer may have taken the name while we copied; never replace someone's image.
      if (await lstatOrNull(dstAbs)) throw new ImageExistsError(dstAbs);
      await fs.rename(tmp, dstAbs);
      await syncDirectory(dir);
      const allocatedBytes = (await fs.stat(dstAbs)).blocks * 512;
      return { method, sizeBytes, allocatedBytes, sha256, format };
    } catch (err) {
      await fs.rm(tmp, { force: true });
      if (madeDir) await removeEmptyDirs(dir, madeDir);
      if (errno(err) === 'ENOSPC' || errno(err) === 'EDQUOT') {
        throw new DiskFullError(repo.path, needed, await this.freeBytes(repo).catch(() => 0), { cause: err });
      }
      throw err;
    }
  }

  async remove(repo: RepositoryRef, rel: string): Promise<void> {
    const abs = await this.resolve(repo, rel);
    await fs.unlink(abs).catch((err) => {
      if (errno(err) !== 'ENOENT') throw err;
    });
    await fs.rm(`${abs}${SIDECAR_SUFFIX}`, { recursive: true, force: true });
  }

  async cleanupTemp(repo: RepositoryRef): Promise<string[]> {
    await realRoot(repo.path);
    const removed: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        // Symlinks are never followed: they may point outside the repository.
        if (entry.isDirectory() && depth < CLEANUP_DEPTH) await walk(full, depth + 1);
        else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          await fs.rm(full, { force: true });
          removed.push(full);
        }
      }
    };
    await walk(path.resolve(repo.path), 0);
    return removed;
  }

  /** A file repository is reached by path (a NAS export mounted on the machine's host): no grant needed. */
  async export(repo: RepositoryRef, rel: string): Promise<DiskRef> {
    const path = await this.resolve(repo, rel, true);
    return { kind: 'file', path, format: await detectFormat(path) };
  }

  async unexport(): Promise<void> {}

  async freeBytes(repo: RepositoryRef): Promise<number> {
    const root = await realRoot(repo.path);
    const st = await fs.statfs(root);
    return st.bavail * st.bsize;
  }
}
