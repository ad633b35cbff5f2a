/** The repository check task on real files: what it removes, and what it reports. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RepositoryRef } from '../../../edge-agent/drivers/storage/interface';
import { ExportBook } from '../../../edge-agent/exports';
import { createDrivers } from '../../../edge-agent/registry';
import { checkRepository } from '../../../edge-agent/tasks/check';
import type { TaskContext } from '../../../edge-agent/tasks/context';
import { run } from '../drivers/imagefs/images';
import { exists, MiB, makeSparseImage } from '../drivers/storage/images';

describe('the check task', () => {
  let dir: string;
  let repo: RepositoryRef;
  let ctx: TaskContext;
  const inRepo = (rel: string) => path.join(repo.path, rel);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-check-'));
    repo = { id: 'r1', kind: 'file', path: path.join(dir, 'repo') };
    await fs.mkdir(inRepo('clones'), { recursive: true });
    ctx = {
      operation: 'op-check',
      host: 'test',
      drivers: createDrivers({ stateDir: path.join(dir, 'state'), storage: ['file'], machines: [] }),
      report: () => {},
      signal: new AbortController().signal,
      seen: () => {},
      exports: new ExportBook(path.join(dir, 'state')),
      secrets: { resolve: (ref) => Promise.reject(new Error(`a check resolves no secret (asked for ${ref})`)) },
      hooks: {},
    };
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  it('removes unclaimed temp output and reports orphans with a format guess, and records whose image is gone', async () => {
    await makeSparseImage(inRepo('masters/m.img'), 4 * MiB, [{ offset: 0, length: MiB }]);
    await makeSparseImage(inRepo('clones/stray.img'), 2 * MiB, [{ offset: 0, length: 4096 }]);
    await run('mkfs.ext4', ['-q', '-F', inRepo('clones/fs.img'), '8M']);
    await makeSparseImage(inRepo('clones/coming.img'), MiB, []);
    await fs.writeFile(inRepo('clones/.encompass-tmp-abc-stray.img'), 'half a copy');
    await fs.writeFile(inRepo('masters/.encompass-partial-old.img'), 'half an upload');
    const out = await checkRepository(
      { repository: repo, scope: 'contents', known: ['masters/m.img', 'clones/gone.img'], pending: ['clones/coming'] },
      ctx,
    );
    expect(out.orphans.map((o) => [o.path, o.format, o.filesystem])).toEqual([
      ['clones/fs.img', 'raw', 'ext4'],
      ['clones/stray.img', 'raw', undefined],
    ]);
    expect(out.orphans[1]).toMatchObject({ sizeBytes: 2 * MiB, modifiedAt: expect.any(String) });
    expect(out.missing).toEqual(['clones/gone.img']);
    expect(out.removed.sort()).toEqual(['clones/.encompass-tmp-abc-stray.img', 'masters/.encompass-partial-old.img']);
    expect(out.truncated).toBe(false);
    expect(await exists(inRepo('clones/stray.img'))).toBe(true);
  });

  it("reports the root's agent and space; a check of scope reach looks at nothing else", async () => {
    await fs.writeFile(inRepo('clones/.encompass-tmp-abc-x.img'), 'half a copy');
    const out = await checkRepository({ repository: repo, scope: 'reach', known: [], pending: [] }, ctx);
    expect(out.root).toMatchObject({ host: 'test', freeBytes: expect.any(Number), totalBytes: expect.any(Number) });
    expect(out.root.freeBytes).toBeGreaterThan(0);
    expect(out.root.totalBytes).toBeGreaterThanOrEqual(out.root.freeBytes);
    expect(out).toMatchObject({ orphans: [], missing: [], removed: [] });
    expect(await exists(inRepo('clones/.encompass-tmp-abc-x.img'))).toBe(true);
    expect(await fs.readdir(repo.path)).toEqual(['clones']);
  });

  const refusal = (root: string) =>
    checkRepository({ repository: { ...repo, path: root }, scope: 'contents', known: [], pending: [] }, ctx);

  it('fails on a missing root, naming the path and the agent and saying to create it', async () => {
    const gone = path.join(dir, 'none');
    await expect(refusal(gone)).rejects.toMatchObject({
      code: 'repository_unreachable',
      message: expect.stringContaining(`no such directory ${gone} on agent test; create it (mkdir -p ${gone})`),
    });
  });

  it('fails on a file where the root or one of its parents should be (which stops root too)', async () => {
    const file = path.join(dir, 'plain');
    await fs.writeFile(file, 'not a directory');
    await expect(refusal(file)).rejects.toMatchObject({
      code: 'repository_unreachable',
      message: expect.stringContaining(`${file} is not a directory (a file is there) on agent test`),
    });
    await expect(refusal(path.join(file, 'below'))).rejects.toMatchObject({
      code: 'repository_unreachable',
      message: expect.stringMatching(/is not a directory \(a file is where one of its parents should be\)/),
    });
  });

  it('fails on a root it cannot write in: a read-only bind mount, which stops root too', async () => {
    const ro = path.join(dir, 'ro');
    await fs.mkdir(ro);
    await run('mount', ['--bind', repo.path, ro]);
    try {
      await run('mount', ['-o', 'remount,ro,bind', ro]);
      await expect(refusal(ro)).rejects.toMatchObject({
        code: 'repository_unreachable',
        message: expect.stringContaining(`cannot write in ${ro} (EROFS) on agent test; mount it read-write`),
      });
    } finally {
      await run('umount', [ro]);
    }
  });
});
