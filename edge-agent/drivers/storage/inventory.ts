/**
 * What a repository directory holds, walked a few levels deep without following symlinks: image files
 * under their names, and what the agent leaves beside them (temp files, partials, sidecars).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isBeingWritten } from './atomic';
import { detectFormat } from './format';
import type { CleanupOptions, StoredImage } from './interface';
import { PARTIAL_PREFIX, realRoot, SIDECAR_SUFFIX, TEMP_PREFIX } from './paths';

/** How deep the walk goes below the repository root (images live a few directories down at most). */
const DEPTH = 4;
const SECTOR_BYTES = 512;

type Found =
  | { kind: 'image'; abs: string; rel: string }
  | { kind: 'temp'; abs: string }
  | { kind: 'partial' | 'sidecar'; abs: string; image: string };

/** The repository's entries; `rel` paths use `/` whatever the host. */
async function walk(root: string): Promise<Found[]> {
  const found: Found[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const rel = path.relative(root, abs).split(path.sep).join('/');
      const beside = (prefix: string, suffix = '') =>
        path.posix.join(path.posix.dirname(rel), entry.name.slice(prefix.length, entry.name.length - suffix.length));
      // Symlinks are never followed: they may point outside the repository.
      if (entry.isDirectory()) {
        if (entry.name.endsWith(SIDECAR_SUFFIX))
          found.push({ kind: 'sidecar', abs, image: beside('', SIDECAR_SUFFIX) });
        else if (depth < DEPTH) await visit(abs, depth + 1);
      } else if (entry.isFile()) {
        if (entry.name.startsWith(TEMP_PREFIX)) found.push({ kind: 'temp', abs });
        else if (entry.name.startsWith(PARTIAL_PREFIX))
          found.push({ kind: 'partial', abs, image: beside(PARTIAL_PREFIX) });
        else found.push({ kind: 'image', abs, rel });
      }
    }
  };
  await visit(root, 0);
  return found;
}

async function describe(abs: string, rel: string): Promise<StoredImage | undefined> {
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st) return undefined;
  const sectors = st.size > 0 && st.size % SECTOR_BYTES === 0;
  const header = await detectFormat(abs).catch(() => undefined);
  const format = header === 'qcow2' ? 'qcow2' : sectors && header ? 'raw' : 'unknown';
  return {
    path: rel,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    format,
    modifiedAt: st.mtime.toISOString(),
  };
}

/** The image files of the repository at `repoPath`, by path. */
export async function listImages(repoPath: string): Promise<StoredImage[]> {
  const root = path.resolve(repoPath);
  await realRoot(repoPath);
  const images: StoredImage[] = [];
  for (const f of await walk(root)) {
    if (f.kind !== 'image') continue;
    const d = await describe(f.abs, f.rel);
    if (d) images.push(d);
  }
  return images.sort((a, b) => a.path.localeCompare(b.path));
}

/** StorageDriver.cleanupTemp for a repository directory. */
export async function cleanupRepository(repoPath: string, opts: CleanupOptions): Promise<string[]> {
  const root = path.resolve(repoPath);
  await realRoot(repoPath);
  const found = await walk(root);
  const images = new Set(found.flatMap((f) => (f.kind === 'image' ? [f.rel] : [])));
  const { claimed } = opts;
  const stray = (f: Found) => {
    if (isBeingWritten(f.abs)) return false;
    if (f.kind === 'temp') return true;
    if (!claimed || f.kind === 'image') return false;
    // A sidecar goes with its image; one whose image is gone and not being made is left over.
    return !claimed(f.image) && (f.kind === 'partial' || !images.has(f.image));
  };
  const removed: string[] = [];
  for (const f of found.filter(stray)) {
    // Gone since the walk (a temp file renamed to its image's name the moment after): nothing to remove.
    if (!(await fs.lstat(f.abs).catch(() => undefined)) || isBeingWritten(f.abs)) continue;
    await fs.rm(f.abs, { recursive: true, force: true });
    removed.push(f.abs);
  }
  return removed;
}
