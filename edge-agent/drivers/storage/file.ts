import { promises as fs } from 'node:fs';
import { type DiskRef, datastorePath } from '../disk';
import { freeBytesOf, receiveNew, writeNew } from './atomic';
import { captureImage } from './capture';
import { copyImageIn } from './copy-in';
import { ImageNotFoundError, UnsupportedMethodError } from './errors';
import { convertToRaw, virtualSize } from './flatten';
import { detectFormat, validateImage } from './format';
import { hashFile } from './hash';
import type {
  CleanupOptions,
  CloneOutcome,
  CopyInOptions,
  CopyOptions,
  Flattening,
  ImageInfo,
  ReceiveFn,
  ReceiveOptions,
  RepositoryRef,
  SourceImage,
  StorageDriver,
  StoredImage,
} from './interface';
import { cleanupRepository, listImages } from './inventory';
import { AUTO, autoMethod, cloneMethod, cloneNameOf, MethodDiscovery } from './methods';
import type { CloneJob, CloneOptions } from './methods/types';
import { ownerOf } from './owner';
import { realRoot, resolveInside, SIDECAR_SUFFIX } from './paths';
import { type RootSpace, reachRoot } from './reach';

export type { CloneOptions } from './methods/types';

/** A clone is written by its machine even when its master is read-only. */
const OWNER_WRITE = 0o200;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A repository is a directory (local disk or NAS export). Clone methods, fastest first, as far as the
 * repository's filesystem and host allow: `reflink` (FICLONE), `overlay` (qcow2 reading through to the
 * master), `sparse` (the master's data extents copied, never shared) and `copy` (every byte streamed through the agent); `auto` is the first
 * of them that is not `overlay`.
 */
export class FileStorageDriver implements StorageDriver, Flattening {
  readonly kind = 'file';
  private readonly discovery = new MethodDiscovery();

  async methods(repo: RepositoryRef): Promise<string[]> {
    return this.discovery.supported(await realRoot(repo.path));
  }

  async chooseMethod(repo: RepositoryRef, method: string): Promise<string> {
    return method === AUTO ? autoMethod(await this.methods(repo)) : method;
  }

  cloneName(base: string, method: string): string {
    return cloneNameOf(base, method);
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

  async exists(repo: RepositoryRef, rel: string): Promise<boolean> {
    return this.resolve(repo, rel, true).then(
      () => true,
      (err) => {
        if (err instanceof ImageNotFoundError) return false;
        throw err;
      },
    );
  }

  async sidecar(repo: RepositoryRef, rel: string): Promise<string> {
    return `${await this.resolve(repo, rel)}${SIDECAR_SUFFIX}`;
  }

  /**
   * Describes the image FILE: for a qcow2 (an overlay clone included) size, allocation and sha256 are
   * those of the qcow2 container, not of the disk the machine sees through it.
   */
  async inspect(repo: RepositoryRef, rel: string, opts: CopyOptions = {}): Promise<ImageInfo> {
    const abs = await this.resolve(repo, rel, true);
    const st = await fs.stat(abs);
    const format = await validateImage(abs, st.size);
    const sha256 = await hashFile(abs, st.size, opts);
    return { sizeBytes: st.size, allocatedBytes: st.blocks * 512, sha256, format };
  }

  /** `method` is one of methods(repo) or `auto`; the outcome names the one used. */
  async clone(
    repo: RepositoryRef,
    src: string,
    dst: string,
    method: string,
    opts: CloneOptions = {},
  ): Promise<CloneOutcome> {
    const supported = await this.methods(repo);
    const name = method === AUTO ? autoMethod(supported) : method;
    const chosen = cloneMethod(name);
    if (!chosen || !supported.includes(name)) throw new UnsupportedMethodError(method, supported);
    const srcAbs = opts.sourcePath ?? (await this.resolve(repo, src, true));
    const dstAbs = await this.resolve(repo, dst);

    const st = await fs.stat(srcAbs);
    const format = await validateImage(srcAbs, st.size);
    const job: Omit<CloneJob, 'tmp'> = {
      src: srcAbs,
      srcRel: src,
      format,
      sizeBytes: st.size,
      allocatedBytes: st.blocks * 512,
      mode: (st.mode & 0o777) | OWNER_WRITE,
      supported,
      opts,
    };
    const made = await writeNew(
      repo.path,
      dstAbs,
      chosen.neededBytes({ ...job, tmp: '' }),
      (tmp) => chosen.make({ ...job, tmp }),
      opts.owner,
    );
    const result = await fs.stat(dstAbs);
    const outcome: CloneOutcome = {
      method: name,
      sizeBytes: result.size,
      allocatedBytes: result.blocks * 512,
      sha256: made.sha256,
      format: made.format,
    };
    if (made.backing) outcome.backing = made.backing;
    return outcome;
  }

  async copyIn(repo: RepositoryRef, rel: string, src: SourceImage, opts?: CopyInOptions): Promise<ImageInfo> {
    return copyImageIn(repo.path, await this.resolve(repo, rel), src, opts);
  }

  async receive<T>(repo: RepositoryRef, rel: string, write: ReceiveFn<T>, opts: ReceiveOptions = {}): Promise<T> {
    return receiveNew(await this.resolve(repo, rel), write, opts.owner);
  }

  async owner(repo: RepositoryRef, rel: string): Promise<string | undefined> {
    return ownerOf(await this.resolve(repo, rel));
  }

  list(repo: RepositoryRef): Promise<StoredImage[]> {
    return listImages(repo.path);
  }

  capture(repo: RepositoryRef, rel: string, dstRel: string, opts?: CopyOptions): Promise<void> {
    return captureImage(this, repo, rel, dstRel, opts);
  }

  /**
   * So a captured overlay clone needs no master. Space is not checked up front (the raw size depends on the
   * content), so running out is found midway.
   */
  async flatten(repo: RepositoryRef, rel: string, dstRel: string, opts: CopyOptions = {}): Promise<ImageInfo> {
    const srcAbs = await this.resolve(repo, rel, true);
    const dstAbs = await this.resolve(repo, dstRel);
    const format = await validateImage(srcAbs, (await fs.stat(srcAbs)).size);
    const size = await virtualSize(srcAbs, format);
    const report = (done: number) => opts.onProgress?.(Math.floor(done), 2 * size);
    return writeNew(repo.path, dstAbs, 0, async (tmp) => {
      report(0);
      await convertToRaw(srcAbs, format, tmp, { signal: opts.signal, onPercent: (p) => report((p / 100) * size) });
      const st = await fs.stat(tmp);
      const sha256 = await hashFile(tmp, st.size, { signal: opts.signal, onProgress: (d) => report(size + d) });
      return { sizeBytes: st.size, allocatedBytes: st.blocks * 512, sha256, format: 'raw' as const };
    });
  }

  async remove(repo: RepositoryRef, rel: string): Promise<void> {
    const abs = await this.resolve(repo, rel);
    await fs.unlink(abs).catch((err) => {
      if (errno(err) !== 'ENOENT') throw err;
    });
    await fs.rm(`${abs}${SIDECAR_SUFFIX}`, { recursive: true, force: true });
  }

  cleanupTemp(repo: RepositoryRef, opts: CleanupOptions = {}): Promise<string[]> {
    return cleanupRepository(repo.path, opts);
  }

  /** A file repository is reached by path (a NAS export mounted on the machine's host): no grant needed. */
  async export(repo: RepositoryRef, rel: string): Promise<DiskRef> {
    const path = await this.resolve(repo, rel, true);
    const datastore = datastorePath(repo.settings?.['datastore'], rel);
    return { kind: 'file', path, format: await detectFormat(path), ...(datastore ? { datastore } : {}) };
  }

  async unexport(): Promise<void> {}

  async freeBytes(repo: RepositoryRef): Promise<number> {
    return freeBytesOf(repo.path);
  }

  reach(repo: RepositoryRef, host: string): Promise<RootSpace> {
    return reachRoot(repo.path, host);
  }
}
