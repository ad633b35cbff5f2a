/** The bundle tasks on real files: written by parts, verified, copied resumably and sparsely, discarded by their own operation only. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../edge-agent/drivers/storage/interface';
import { ExportBook } from '../../../edge-agent/exports';
import { createDrivers } from '../../../edge-agent/registry';
import { bundleCopy, bundleDiscard, bundleVerify, bundleWrite } from '../../../edge-agent/tasks/bundle';
import type { TaskContext } from '../../../edge-agent/tasks/context';
import { BUNDLE_FORMAT, CREDENTIALS_NOTE, PART_BYTES } from '../../../statemachines/bundle';
import { MiB, makeSparseImage, SPARSE_64M_REGIONS, sha256OfFile } from '../drivers/storage/images';

describe('bundle tasks', () => {
  let dir: string;
  let src: RepositoryRef;
  let dst: RepositoryRef;
  let ctx: TaskContext;
  const as = (operation: string): TaskContext => ({ ...ctx, operation });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-bundle-'));
    src = { id: 'r1', kind: 'file', path: path.join(dir, 'src') };
    dst = { id: 'r2', kind: 'file', path: path.join(dir, 'dst') };
    await fs.mkdir(src.path);
    await fs.mkdir(dst.path);
    ctx = {
      operation: 'op-export',
      host: 'test',
      drivers: createDrivers({ stateDir: path.join(dir, 'state'), storage: ['file'], machines: [] }),
      report: () => {},
      signal: new AbortController().signal,
      seen: () => {},
      exports: new ExportBook(path.join(dir, 'state')),
      secrets: { resolve: (ref) => Promise.reject(new Error(`bundle tasks resolve no secret (asked for ${ref})`)) },
      hooks: {},
    };
    await makeSparseImage(path.join(src.path, 'masters/m.img'), 16 * MiB, SPARSE_64M_REGIONS.slice(0, 2));
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  const bundle = () => ({ kind: 'file' as const, repository: src, path: 'bundles/b' });
  const header = {
    format: BUNDLE_FORMAT,
    version: 1 as const,
    export: 'ex-1',
    exportedAt: '2026-01-01T00:00:00Z',
    site: { name: 'a' },
    algorithm: 'sha256' as const,
    credentials: CREDENTIALS_NOTE,
  };
  const master = {
    kind: 'master',
    id: 'ms-1',
    path: 'images/ms-1.img',
    name: 'web',
    version: 1,
    repository: 'r1',
    profile: {},
    requirements: {},
    customization: [],
  };

  async function written() {
    const out = await bundleWrite(
      {
        destination: bundle(),
        header,
        objects: [
          { entry: master, source: { repository: src, path: 'masters/m.img' } },
          {
            entry: { kind: 'metadata', id: 'machines', path: 'metadata/machines.json', of: 'machines' },
            content: '{"machines":[]}',
          },
        ],
      },
      ctx,
    );
    const m = out.manifest.objects[0]!;
    return {
      out,
      m,
      copy: {
        bundle: bundle(),
        partBytes: PART_BYTES,
        images: [
          {
            object: m.id,
            source: m.path,
            sizeBytes: m.sizeBytes,
            sha256: m.sha256,
            parts: m.parts,
            target: { repository: dst, path: 'masters/web-v1.img' },
          },
        ],
      },
    };
  }

  it('writes each object with its sha256 and one sha256 per part, and the manifest last', async () => {
    const { out, m } = await written();
    expect(m).toMatchObject({
      sizeBytes: 16 * MiB,
      sha256: await sha256OfFile(path.join(src.path, 'masters/m.img')),
      format: 'raw',
    });
    expect(m.parts).toHaveLength(4);
    expect(new Set(m.parts).size).toBeGreaterThan(1);
    const onDisk = JSON.parse(await fs.readFile(path.join(src.path, 'bundles/b/manifest.json'), 'utf8'));
    expect(onDisk).toEqual(out.manifest);
    // Run again by the same export (a redelivered task): its own bundle is the outcome.
    expect((await bundleWrite({ destination: bundle(), header, objects: [] }, ctx)).manifest).toEqual(out.manifest);
    await expect(
      bundleWrite({ destination: bundle(), header: { ...header, export: 'ex-2' }, objects: [] }, ctx),
    ).rejects.toMatchObject({
      code: 'bundle_exists',
    });
  });

  it('verifies every part and names the object and part that differ, or a file cut short', async () => {
    await written();
    const ok = await bundleVerify({ bundle: bundle() }, ctx);
    expect(ok.documents).toEqual({ 'metadata/machines.json': '{"machines":[]}' });
    expect(ok.bytes).toBe(16 * MiB + 15);
    const image = path.join(src.path, 'bundles/b/images/ms-1.img');
    const fh = await fs.open(image, 'r+');
    await fh.write(Buffer.from([7]), 0, 1, 9 * MiB);
    await fh.close();
    await expect(bundleVerify({ bundle: bundle() }, ctx)).rejects.toMatchObject({
      code: 'bundle_damaged',
      message: expect.stringMatching(/ms-1 .*part 2/),
    });
    await fs.truncate(image, 3 * MiB);
    await expect(bundleVerify({ bundle: bundle() }, ctx)).rejects.toMatchObject({
      code: 'bundle_damaged',
      message: expect.stringMatching(/bytes, not/),
    });
    await fs.writeFile(path.join(src.path, 'bundles/b/manifest.json'), '{"format":"encompass-bundle"}');
    await expect(bundleVerify({ bundle: bundle() }, ctx)).rejects.toMatchObject({ code: 'bundle_unreadable' });
  });

  it('places no image while any is still being copied, and resumes every partial the failed copy left', async () => {
    const second = { ...master, id: 'ms-2', path: 'images/ms-2.img', version: 2 };
    const out = await bundleWrite(
      {
        destination: bundle(),
        header,
        objects: [master, second].map((entry) => ({ entry, source: { repository: src, path: 'masters/m.img' } })),
      },
      ctx,
    );
    const images = out.manifest.objects.map((m, i) => ({
      object: m.id,
      source: m.path,
      sizeBytes: m.sizeBytes,
      sha256: m.sha256,
      parts: m.parts,
      target: { repository: dst, path: `masters/web-v${i + 1}.img` },
    }));
    const copy = { bundle: bundle(), partBytes: PART_BYTES, images };
    const inBundle = path.join(src.path, 'bundles/b/images/ms-2.img');
    const whole = await fs.readFile(inBundle);
    await fs.truncate(inBundle, 6 * MiB);
    const imp = as('op-import');
    await expect(bundleCopy(copy, imp)).rejects.toMatchObject({
      message: expect.stringMatching(/send the same import again/),
    });
    expect(await fs.readdir(path.join(dst.path, 'masters'))).toEqual(
      ['.encompass-partial-web-v1.img', '.encompass-partial-web-v2.img'].sort(),
    );
    await fs.writeFile(inBundle, whole);
    const again = await bundleCopy(copy, as('op-import-again'));
    expect(again.images.map((i) => [i.keptBytes, i.copiedBytes])).toEqual([
      [16 * MiB, 0],
      // The cut-short copy had 6 MiB: part 0, and part 1 (zeros in the image beyond 1 MiB) match; part 2 is fetched.
      [2 * PART_BYTES, 16 * MiB - 2 * PART_BYTES],
    ]);
    expect(again.images.map((i) => i.sha256)).toEqual([images[0]!.sha256, images[1]!.sha256]);
    expect(
      (await fs.readdir(path.join(dst.path, 'masters'))).filter((f) => f.endsWith('.img') && !f.startsWith('.')),
    ).toEqual(['web-v1.img', 'web-v2.img']);
  });

  it('copies sparsely, keeping the leading parts of a partial that match and fetching the rest', async () => {
    const { copy, m } = await written();
    const partial = path.join(dst.path, 'masters/.encompass-partial-web-v1.img');
    await fs.mkdir(path.dirname(partial), { recursive: true });
    const bytes = await fs.readFile(path.join(src.path, 'masters/m.img'));
    // Part 0 right, part 1 damaged: only part 0 is kept.
    const stale = Buffer.from(bytes.subarray(0, 2 * PART_BYTES));
    stale[PART_BYTES + 5] = stale[PART_BYTES + 5]! ^ 1;
    await fs.writeFile(partial, stale);
    const imp = as('op-import');
    const out = await bundleCopy(copy, imp);
    expect(out.images[0]).toMatchObject({
      object: 'ms-1',
      sha256: m.sha256,
      keptBytes: PART_BYTES,
      copiedBytes: 3 * PART_BYTES,
      path: 'masters/web-v1.img',
    });
    expect(out.images[0]!.allocatedBytes).toBeLessThan(16 * MiB);
    expect(await fs.stat(partial).catch(() => null)).toBeNull();
    expect((await bundleCopy(copy, imp)).images[0]).toMatchObject({ copiedBytes: 0, sha256: m.sha256 });
    // Another operation's copy is not this one's to remove; its own is.
    expect(await bundleDiscard(copy, as('op-other'))).toEqual({ removed: [] });
    expect(await bundleDiscard(copy, imp)).toEqual({ removed: ['masters/web-v1.img'] });
    expect(await fs.stat(path.join(dst.path, 'masters/web-v1.img')).catch(() => null)).toBeNull();
  });
});
