/**
 * A task whose write fails part-way (its items are written together, in one pass) puts every file
 * back as it found it before it fails: on a real ext4 image that runs out of space, every file is as
 * it was, no undo record is left, and the error names the first item that did not fit. When putting
 * the files back fails too, the error says which items may still be in, and their records stay.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyCustomization } from '../../../edge-agent/customization/apply';
import type { CustomizationItem } from '../../../edge-agent/customization/items';
import { FileUndoStore } from '../../../edge-agent/customization/undo-store';
import { ExtImageFilesystem } from '../../../edge-agent/drivers/imagefs/ext';
import type { VolumeInfo } from '../../../edge-agent/drivers/imagefs/interface';
import { makeExt4 } from '../../support/images';
import { RecordingFilesystem } from './fixtures';

const run = promisify(execFile);
const MiB = 1024 * 1024;

const files = {
  'etc/hostname': 'template\n',
  'etc/hosts': '127.0.0.1 localhost\n127.0.1.1 template\n',
  'etc/motd': 'welcome\n',
};

/** Three items that apply, then one that does not fit in the 16 MiB filesystem, then one never reached. */
const items: CustomizationItem[] = [
  { type: 'file', path: '/etc/hostname', content: 'web-9\n' },
  { type: 'replace', path: '/etc/hosts', pattern: 'template', replacement: 'web-9', flags: 'g' },
  { type: 'file', path: '/etc/new.conf', content: 'new\n', mode: 0o600 },
  { type: 'file', path: '/etc/motd', content: 'x'.repeat(40 * MiB) },
  { type: 'file', path: '/etc/never', content: 'never\n' },
];
const touched = ['/etc/hostname', '/etc/hosts', '/etc/new.conf', '/etc/motd', '/etc/never'];

describe('a customize task whose item fails while it is written', () => {
  let dir: string;
  let image: string;
  let fs: RecordingFilesystem;
  let volume: VolumeInfo;
  let undo: FileUndoStore;

  /** Content and mode of every touched file (null when absent). */
  const snapshot = async () => {
    const out: Record<string, { content: string; mode: number | null } | null> = {};
    for (const path of touched) {
      const content = await fs.readFile(image, volume, path);
      out[path] = content && { content: content.toString(), mode: await fs.fileMode(image, volume, path) };
    }
    return out;
  };
  const freeBlocks = async () => {
    const { stdout } = await run('dumpe2fs', ['-h', image]);
    return Number(/^Free blocks:\s+(\d+)/m.exec(stdout)?.[1]);
  };
  const undoRecords = async () => {
    const found = [];
    for (let i = 0; i < items.length; i++) if (await undo.get(i)) found.push(i);
    return found;
  };
  const apply = (from: number, to: number) =>
    applyCustomization({ imagePath: image, fs, volume, items, variables: {}, from, to, undo });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-partial-'));
    image = join(dir, 'clone.img');
    await makeExt4(image, files, 16);
    fs = new RecordingFilesystem(new ExtImageFilesystem());
    volume = (await fs.detect(image))!;
    undo = new FileUndoStore(join(dir, 'undo'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('undoes the items it applied before it fails, and says so', async () => {
    const before = await snapshot();
    const free = await freeBlocks();
    const failure = await apply(0, 5).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'tool_failed', from: 0, failed: 3 });
    expect((failure as Error).message).toMatch(/Could not allocate block/);
    expect((failure as Error).message).toContain(
      'The changes this task made (items 0 to 4) were undone from their undo records: the image is as it was before the task.',
    );
    // The filesystem was full when item 3 failed; every item went before the task ended.
    expect(await snapshot()).toEqual(before);
    expect(await freeBlocks()).toBe(free);
    expect(await undoRecords()).toEqual([]);
    await run('e2fsck', ['-fn', image]);
  });

  it('undoes only this task, from where it started: items applied by an earlier task stay', async () => {
    expect((await apply(0, 2)).applied).toBe(2);
    const before = await snapshot();
    expect(before['/etc/hostname']?.content).toBe('web-9\n');
    const failure = await apply(2, 5).catch((e: unknown) => e);
    expect((failure as Error).message).toContain('(items 2 to 4) were undone');
    expect(await snapshot()).toEqual(before);
    expect(await undoRecords()).toEqual([0, 1]);
  });

  it('says which items may still be in when undoing them fails too, and a later task still undoes them exactly', async () => {
    const before = await snapshot();
    // The write pass makes changes 1 to 5 (items 0 to 4; item 3 fails for space); change 6 is the
    // first of the pass that puts the files back, and fails.
    fs.crashAtChange(6);
    const failure = await apply(0, 5).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'tool_failed', failed: 3 });
    expect((failure as Error).message).toMatch(/Could not allocate block/);
    expect((failure as Error).message).toContain(
      "Undoing this task's changes (items 0 to 4) failed too (simulated crash before the change): they may still be in the image, with their undo records.",
    );
    const after = await snapshot();
    expect(after['/etc/new.conf']?.content).toBe('new\n');
    expect(after['/etc/hostname']?.content).toBe('web-9\n');
    expect(await undoRecords()).toEqual([0, 1, 2, 3, 4]);

    // Retried once the cause is gone, the task takes up the items already in.
    const retry = await apply(0, 3);
    expect(retry.applied).toBe(3);
    expect((await snapshot())['/etc/hosts']?.content).toBe('127.0.0.1 localhost\n127.0.1.1 web-9\n');
    // Items 3 and 4 still do not fit; their records, left by the first task, put the files back as they were.
    const again = await apply(3, 5).catch((e: unknown) => e);
    expect((again as Error).message).toContain('The changes this task made (items 3 to 4) were undone');
    const now = await snapshot();
    expect(now['/etc/motd']).toEqual(before['/etc/motd']);
    expect(now['/etc/never']).toBeNull();
    expect(await undoRecords()).toEqual([0, 1, 2]);
    await run('e2fsck', ['-fn', image]);
  });
});
