/**
 * A SAN served by a userspace tgt target. Images are raw files in the repository directory, handled by
 * the file driver; each exported image is its own target whose LUN 1 is the file, and whose name ACL
 * lets in exactly the initiators it was exported to.
 *
 * tgtd keeps targets in memory only: after it restarts they are gone. `export` re-creates whatever is
 * missing, so the agent re-exports the clones attached to machines when it starts.
 */
import { promises as fs } from 'node:fs';
import type { IscsiDisk } from '../../disk';
import { captureImage } from '../capture';
import { UnsupportedMethodError } from '../errors';
import { FileStorageDriver } from '../file';
import { detectFormat } from '../format';
import type {
  Access,
  CleanupOptions,
  CloneOptions,
  CloneOutcome,
  CopyInOptions,
  CopyOptions,
  ImageInfo,
  ReceiveFn,
  ReceiveOptions,
  RepositoryRef,
  SourceImage,
  StorageDriver,
  StoredImage,
} from '../interface';
import { AUTO, autoMethod, isLinked } from '../methods';
import type { RootSpace } from '../reach';
import { LunNeedsRawImageError, TargetBusyError, TargetConflictError, TargetUnreachableError } from './errors';
import { type IscsiSettings, initiatorOf, lunIdentity, parseSettings, targetName } from './settings';
import { TgtdSupervisor } from './target';
import { isAddressEntry, Tgtadm, type TgtTarget } from './tgtadm';

const LUN = 1;
/** Storage-side volume copy; `auto` means this. */
const SAN = 'san';

export class IscsiStorageDriver implements StorageDriver {
  readonly kind = 'iscsi';
  readonly targets = new TgtdSupervisor();
  private readonly queues = new Map<number, Promise<unknown>>();

  constructor(private readonly files = new FileStorageDriver()) {}

  /** `san` first, then the file methods whose clone is a self-contained volume (a LUN cannot read through). */
  async methods(repo: RepositoryRef): Promise<string[]> {
    const fileMethods = (await this.files.methods(repo)).filter((m) => !isLinked(m));
    return [SAN, ...fileMethods.filter((m) => m !== SAN)];
  }

  async chooseMethod(repo: RepositoryRef, method: string): Promise<string> {
    return method === AUTO ? autoMethod(await this.methods(repo)) : method;
  }

  cloneName(base: string, method: string): string {
    return this.files.cloneName(base, method);
  }

  resolve(repo: RepositoryRef, rel: string, mustExist?: boolean): Promise<string> {
    return this.files.resolve(repo, rel, mustExist);
  }

  exists(repo: RepositoryRef, rel: string): Promise<boolean> {
    return this.files.exists(repo, rel);
  }

  sidecar(repo: RepositoryRef, rel: string): Promise<string> {
    return this.files.sidecar(repo, rel);
  }

  inspect(repo: RepositoryRef, rel: string, opts?: CopyOptions): Promise<ImageInfo> {
    return this.files.inspect(repo, rel, opts);
  }

  owner(repo: RepositoryRef, rel: string): Promise<string | undefined> {
    return this.files.owner(repo, rel);
  }

  /** The LUN backing files, each with the target that serves it when the repository's tgtd runs. */
  async list(repo: RepositoryRef): Promise<StoredImage[]> {
    const images = await this.files.list(repo);
    const s = parseSettings(repo);
    const tgtadm = await this.serialized(s.controlPort, () => this.reachable(s));
    if (!tgtadm) return images;
    const servedBy = new Map<string, string>();
    for (const t of await tgtadm.showTargets())
      for (const l of t.luns)
        if (l.backingPath) servedBy.set(await fs.realpath(l.backingPath).catch(() => l.backingPath!), t.name);
    const out: StoredImage[] = [];
    for (const img of images) {
      const abs = await this.files.resolve(repo, img.path);
      const target = servedBy.get(await fs.realpath(abs).catch(() => abs));
      out.push(target ? { ...img, servedAs: target } : img);
    }
    return out;
  }

  async clone(
    repo: RepositoryRef,
    src: string,
    dst: string,
    method: string,
    opts?: CloneOptions,
  ): Promise<CloneOutcome> {
    const offered = await this.methods(repo);
    const wanted = method === AUTO ? autoMethod(offered) : method;
    if (!offered.includes(wanted)) throw new UnsupportedMethodError(method, offered);
    if (wanted !== SAN) return this.files.clone(repo, src, dst, wanted, opts);
    // The file driver lists its methods fastest first: the first full copy is reflink where the filesystem can.
    const copy = offered.find((m) => m !== SAN);
    if (!copy) throw new UnsupportedMethodError(method, offered);
    return { ...(await this.files.clone(repo, src, dst, copy, opts)), method: SAN };
  }

  /** Only a raw image comes in: a LUN serves the file's bytes as the disk (LunNeedsRawImageError). */
  async copyIn(repo: RepositoryRef, rel: string, src: SourceImage, opts?: CopyInOptions): Promise<ImageInfo> {
    const format = await detectFormat(src.path);
    if (format !== 'raw') throw new LunNeedsRawImageError(src.path, format);
    return this.files.copyIn(repo, rel, src, opts);
  }

  receive<T>(repo: RepositoryRef, rel: string, write: ReceiveFn<T>, opts?: ReceiveOptions): Promise<T> {
    return this.files.receive(repo, rel, write, opts);
  }

  /** This driver does not flatten: a qcow2 image cannot be captured here (UnsupportedCaptureError). */
  capture(repo: RepositoryRef, rel: string, dstRel: string, opts?: CopyOptions): Promise<void> {
    return captureImage(this, repo, rel, dstRel, opts);
  }

  /** Deletes the targets serving the image first; refuses (TargetBusyError) while a machine is logged in to one. */
  async remove(repo: RepositoryRef, rel: string): Promise<void> {
    const s = parseSettings(repo);
    const abs = await this.files.resolve(repo, rel);
    await this.serialized(s.controlPort, async () => {
      const tgtadm = await this.reachable(s);
      if (!tgtadm) return;
      const real = await fs.realpath(abs).catch(() => abs);
      for (const t of await tgtadm.showTargets()) {
        const backing = await Promise.all(
          t.luns.map((l) => l.backingPath && fs.realpath(l.backingPath).catch(() => l.backingPath)),
        );
        if (!backing.includes(real) && !t.luns.some((l) => l.backingPath === abs)) continue;
        if (t.sessions.length > 0) throw busy(t);
        await tgtadm.deleteTarget(t.tid);
      }
    });
    await this.files.remove(repo, rel);
  }

  cleanupTemp(repo: RepositoryRef, opts?: CleanupOptions): Promise<string[]> {
    return this.files.cleanupTemp(repo, opts);
  }

  freeBytes(repo: RepositoryRef): Promise<number> {
    return this.files.freeBytes(repo);
  }

  /** Valid settings, a writable directory for the backing files, and the target's tooling installed; tgtd may be down (export starts or finds it). */
  async reach(repo: RepositoryRef, host: string): Promise<RootSpace> {
    const s = parseSettings(repo);
    const space = await this.files.reach(repo, host);
    await new Tgtadm(s.controlPort).portals().catch((err) => {
      if (!(err instanceof TargetUnreachableError)) throw err;
    });
    return space;
  }

  /** Creates (or re-creates) the image's target and lets `access.initiatorName` in. Idempotent. */
  async export(repo: RepositoryRef, rel: string, access: Access): Promise<IscsiDisk> {
    const s = parseSettings(repo);
    const initiator = initiatorOf(access);
    const abs = await this.files.resolve(repo, rel, true);
    const format = await detectFormat(abs);
    if (format !== 'raw') throw new LunNeedsRawImageError(abs, format);
    const name = targetName(s.iqnPrefix, repo.path, abs);
    await this.serialized(s.controlPort, async () => {
      const tgtadm = await this.targets.ensure(s);
      const targets = await tgtadm.showTargets();
      const target = targets.find((t) => t.name === name) ?? (await createTarget(tgtadm, targets, name, abs));
      const backing = target.luns.find((l) => l.lun === LUN)?.backingPath ?? null;
      if (backing !== abs) throw new TargetConflictError(name, abs, backing);
      // An address ACL (e.g. ALL) would let anyone in beside the named initiators.
      for (const entry of target.acl.filter(isAddressEntry)) await tgtadm.unbindInitiatorAddress(target.tid, entry);
      if (!target.acl.includes(initiator)) await tgtadm.bindInitiatorName(target.tid, initiator);
    });
    return { kind: 'iscsi', portal: s.portal, target: name, lun: LUN, format: 'raw' };
  }

  /**
   * Shuts `access.initiatorName` out; deletes the target once no initiator is left. Refuses
   * (TargetBusyError) while that initiator is logged in, since tgt checks the ACL at login only.
   */
  async unexport(repo: RepositoryRef, rel: string, access: Access): Promise<void> {
    const s = parseSettings(repo);
    const initiator = initiatorOf(access);
    const name = targetName(s.iqnPrefix, repo.path, await this.files.resolve(repo, rel));
    await this.serialized(s.controlPort, async () => {
      const tgtadm = await this.reachable(s);
      const target = tgtadm && (await tgtadm.showTargets()).find((t) => t.name === name);
      if (!tgtadm || !target) return;
      if (target.sessions.some((x) => x.initiator === initiator)) throw busy(target, initiator);
      if (target.acl.includes(initiator)) await tgtadm.unbindInitiatorName(target.tid, initiator);
      if (target.acl.some((e) => e !== initiator && !isAddressEntry(e))) return;
      if (target.sessions.length > 0) throw busy(target);
      await tgtadm.deleteTarget(target.tid);
    });
  }

  /** Stops every tgtd this driver started. */
  shutdown(): Promise<void> {
    return this.targets.stopAll();
  }

  /** The tgtd of the repository, or null when none runs (then nothing is exported). */
  private async reachable(s: IscsiSettings): Promise<Tgtadm | null> {
    return this.targets.ensure({ ...s, manageTarget: false }).catch((err) => {
      if (err instanceof TargetUnreachableError) return null;
      throw err;
    });
  }

  /** One tgtadm conversation at a time per tgtd, so two exports never pick the same free tid. */
  private serialized<T>(controlPort: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(controlPort) ?? Promise.resolve()).then(fn, fn);
    this.queues.set(
      controlPort,
      run.catch(() => undefined),
    );
    return run;
  }
}

async function createTarget(tgtadm: Tgtadm, existing: TgtTarget[], name: string, abs: string): Promise<TgtTarget> {
  const tid = Math.max(0, ...existing.map((t) => t.tid)) + 1;
  await tgtadm.newTarget(tid, name);
  try {
    await tgtadm.newLun(tid, LUN, abs);
    const { scsiId, scsiSn } = lunIdentity(name);
    await tgtadm.setLunIdentity(tid, LUN, scsiId, scsiSn);
  } catch (err) {
    await tgtadm.deleteTarget(tid, true).catch(() => undefined);
    throw err;
  }
  return { tid, name, luns: [{ lun: LUN, type: 'disk', backingPath: abs }], sessions: [], acl: [] };
}

function busy(t: TgtTarget, only?: string): TargetBusyError {
  const initiators = t.sessions.map((x) => x.initiator).filter((i) => !only || i === only);
  return new TargetBusyError(t.name, [...new Set(initiators)]);
}
