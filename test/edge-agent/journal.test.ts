/** The agent's journal remembers each task's outcome per operation and forgets old entries. */
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, type JournalEntry } from '../../edge-agent/journal';

const DAY_MS = 24 * 3600 * 1000;

describe('the agent journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns a stored entry as it was written, per operation and task', async () => {
    const journal = new Journal(join(dir, 'journal'));
    const done: JournalEntry = {
      status: 'succeeded',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:05.000Z',
      result: { sha256: 'ab'.repeat(32), sizeBytes: 16777216, nested: { method: 'copy' } },
    };
    await journal.put('op-1', 'cloneImage', done);
    await journal.put('op-1', 'powerOn', { status: 'running', startedAt: '2026-01-01T00:00:06.000Z' });

    expect(await journal.get('op-1', 'cloneImage')).toEqual(done);
    expect(await journal.get('op-1', 'powerOn')).toEqual({ status: 'running', startedAt: '2026-01-01T00:00:06.000Z' });
    expect(await journal.get('op-2', 'cloneImage')).toBeUndefined();
  });

  it('replaces an entry when a task moves on, leaving no temp file', async () => {
    const journal = new Journal(dir);
    await journal.put('op-1', 'powerOn', { status: 'running', startedAt: 'a' });
    const failed: JournalEntry = {
      status: 'failed',
      startedAt: 'a',
      endedAt: 'b',
      error: { error: 'boot_failed', cause: '{"code":"boot_failed"}' },
    };
    await journal.put('op-1', 'powerOn', failed);
    expect(await journal.get('op-1', 'powerOn')).toEqual(failed);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('keeps operation ids with path characters inside its directory', async () => {
    const journal = new Journal(join(dir, 'journal'));
    await journal.put('../../escape/op', 'attach', { status: 'running', startedAt: 'a' });
    expect(await readdir(dir)).toEqual(['journal']);
    expect(await journal.get('../../escape/op', 'attach')).toEqual({ status: 'running', startedAt: 'a' });
  });

  it('prunes entries older than a week and leftover temp files, and keeps recent ones', async () => {
    const journal = new Journal(dir);
    await journal.put('op-old', 'cloneImage', { status: 'succeeded', startedAt: 'a', result: {} });
    await journal.put('op-new', 'cloneImage', { status: 'succeeded', startedAt: 'b', result: {} });
    const old = new Date(Date.now() - 8 * DAY_MS);
    await utimes(join(dir, 'op-old.cloneImage.json'), old, old);
    await writeFile(join(dir, 'op-cut.powerOn.json.tmp'), '{"status":');

    expect(await journal.prune()).toBe(2);
    expect(await journal.get('op-old', 'cloneImage')).toBeUndefined();
    expect(await journal.get('op-new', 'cloneImage')).toMatchObject({ status: 'succeeded', startedAt: 'b' });
    expect((await readdir(dir)).sort()).toEqual(['op-new.cloneImage.json']);
  });

  it('prunes nothing, without failing, before its directory exists', async () => {
    expect(await new Journal(join(dir, 'not-yet')).prune()).toBe(0);
  });
});
