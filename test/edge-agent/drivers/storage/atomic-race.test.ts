/** A repository check that runs while images are being made never takes one's temp file for a leftover. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeNew } from '../../../../edge-agent/drivers/storage/atomic';
import { cleanupRepository } from '../../../../edge-agent/drivers/storage/inventory';

describe('writeNew against a concurrent cleanup', () => {
  let repo: string;
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'encompass-atomic-race-'));
    await mkdir(join(repo, 'clones'));
  });
  afterEach(() => rm(repo, { recursive: true, force: true }));

  it('keeps every temp file from the copy to the rename (owner note included) while cleanups run back to back', async () => {
    let done = false;
    let removed = 0;
    const sweeper = (async () => {
      while (!done) removed += (await cleanupRepository(repo, { claimed: () => true })).length;
    })();
    try {
      for (let i = 0; i < 40; i++) {
        const dst = join(repo, 'clones', `c-${i}.img`);
        await writeNew(repo, dst, 0, (tmp) => writeFile(tmp, `image ${i}`), `op-${i}`);
        expect(await readFile(dst, 'utf8')).toBe(`image ${i}`);
      }
    } finally {
      done = true;
      await sweeper;
    }
    expect(removed).toBe(0);
  });
});
