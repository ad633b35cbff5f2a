/**
 * A repository check: first whether its root can be used at all (a directory this agent writes in;
 * RepositoryUnreachableError says what is wrong), with its free space; then (scope `contents`) what
 * the repository holds against what the records say it should. Stray output of the agent (temp files, partials and sidecars no record or work in hand claims) is removed; images
 * no record names are reported as orphans, with a guess of what they are; records whose image is
 * gone are reported as missing. The functions compare the orphans with the records again when they
 * commit, since work may have ended meanwhile.
 */
import path from 'node:path';
import { isClaimed, MAX_REPORTED_ORPHANS, type StoredImage } from '../../statemachines/tasks';
import type { Task } from './context';

export const checkRepository: Task<'check'> = async (input, ctx) => {
  const { repository, known, pending, scope } = input;
  const storage = ctx.drivers.storage(repository.kind);
  ctx.report(0, 'reach');
  const root = { host: ctx.host, ...(await storage.reach(repository, ctx.host)) };
  if (scope === 'reach') return { root, orphans: [], truncated: false, missing: [], removed: [] };
  ctx.seen(repository);
  const [k, p] = [new Set(known), new Set(pending)];
  const claimed = (image: string) => isClaimed(k, p, image);
  ctx.report(0, 'cleanup');
  const removed = await storage.cleanupTemp(repository, { claimed });
  ctx.report(0.3, 'list');
  const images = await storage.list(repository);
  const found = new Set(images.map((i) => i.path));
  const unclaimed = images.filter((i) => !claimed(i.path));
  const orphans: StoredImage[] = [];
  for (const [n, image] of unclaimed.slice(0, MAX_REPORTED_ORPHANS).entries()) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    orphans.push(await guessFilesystem(ctx, repository, image));
    ctx.report(0.4 + (0.5 * (n + 1)) / unclaimed.length, 'inspect');
  }
  // A record may reach its image through a symlinked directory, which the listing does not follow.
  const missing: string[] = [];
  for (const p of known)
    if (!found.has(p) && !(await storage.exists(repository, p).catch(() => false))) missing.push(p);
  return {
    root,
    orphans,
    truncated: unclaimed.length > orphans.length,
    missing,
    removed: removed.map((abs) => path.relative(repository.path, abs).split(path.sep).join('/')),
  };
};

/** A raw image's filesystem, as the import would find it; qcow2 and unknown files are left as they are. */
async function guessFilesystem(
  ctx: Parameters<Task<'check'>>[1],
  repository: Parameters<Task<'check'>>[0]['repository'],
  image: StoredImage,
): Promise<StoredImage> {
  if (image.format !== 'raw') return image;
  const abs = await ctx.drivers.storage(repository.kind).resolve(repository, image.path, true);
  for (const fs of ctx.drivers.imagefs) {
    const found = await fs.detect(abs).catch(() => null);
    if (found) return { ...image, filesystem: found.type };
  }
  return image;
}
