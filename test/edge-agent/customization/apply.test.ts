// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} in plain strings is the customization syntax under test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyCustomization } from '../../../edge-agent/customization/apply';
import type { CustomizationItem } from '../../../edge-agent/customization/items';
import { SEED_FILES } from '../drivers/imagefs/imagefs.case';
import { type Clone, ITEMS, makeClone, type RecordingFilesystem, sha256, VARIABLES } from './fixtures';

const HOSTS_AFTER = '127.0.0.1\tlocalhost\n127.0.1.1\tweb-01.example.org\n';

describe('applyCustomization on an ext4 image', () => {
  let clone: Clone & { recording: RecordingFilesystem };
  const apply = (from: number, to: number, extra: Partial<Parameters<typeof applyCustomization>[0]> = {}) =>
    applyCustomization({ ...clone, items: ITEMS, variables: VARIABLES, from, to, ...extra });

  beforeEach(async () => {
    clone = await makeClone();
  });
  afterEach(async () => clone.cleanup());

  it('writes /etc/hostname from ${hostname}, keeping its mode, and reports the change', async () => {
    const result = await apply(0, 1);
    expect(await clone.text('/etc/hostname')).toBe('web-01\n');
    expect((await clone.files(['/etc/hostname']))['/etc/hostname']?.mode).toBe(0o644);
    expect(result).toEqual({
      applied: 1,
      changes: [
        {
          index: 0,
          path: '/etc/hostname',
          sha256Before: sha256(SEED_FILES['/etc/hostname']!.content),
          sha256After: sha256('web-01\n'),
        },
      ],
    });
  });

  it('replaces one line of /etc/hosts by regular expression and leaves the others', async () => {
    await apply(0, 2);
    expect(await clone.text('/etc/hosts')).toBe(HOSTS_AFTER);
  });

  it('creates a file that did not exist, with the given mode, and records that it did not exist', async () => {
    const result = await apply(0, 3);
    expect(await clone.files(['/etc/motd'])).toEqual({
      '/etc/motd': { sha256: sha256('Welcome to web-01\n'), mode: 0o600 },
    });
    expect(result.changes[2]).toMatchObject({ index: 2, sha256Before: null });
    expect(await clone.undo.get(2)).toMatchObject({ existed: false, mode: null, contentBase64: null });
  });

  it('applies in stages (0→1, then 1→2) to the same result as all at once', async () => {
    const progress: [number, number][] = [];
    expect((await apply(0, 1)).applied).toBe(1);
    expect(await clone.text('/etc/hosts')).toBe(SEED_FILES['/etc/hosts']!.content);
    const second = await apply(1, 2, { onProgress: (done, total) => progress.push([done, total]) });
    expect(second.changes.map((c) => c.index)).toEqual([1]);
    expect(await clone.text('/etc/hostname')).toBe('web-01\n');
    expect(await clone.text('/etc/hosts')).toBe(HOSTS_AFTER);
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(await clone.undoRecords()).toEqual(['item-0.json', 'item-1.json']);
  });

  it('changes nothing when retried with the same from and to', async () => {
    const first = await apply(0, 3);
    const image = await clone.imageSha256();
    const writes = clone.recording.changes;
    const second = await apply(0, 3);
    expect(clone.recording.changes).toBe(writes);
    expect(await clone.imageSha256()).toBe(image);
    expect(second).toEqual(first);
  });

  it('reads the image once and writes it once (with its read-back), however many items', async () => {
    const items: CustomizationItem[] = Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0
        ? { type: 'file', path: `/etc/item${i}.conf`, content: `${i} \${hostname}\n` }
        : { type: 'replace', path: '/etc/hosts', pattern: 'seed-host|web-01', replacement: '${hostname}' },
    );
    await applyCustomization({ ...clone, items, variables: VARIABLES, from: 0, to: 10 });
    expect([clone.recording.reads, clone.recording.writes]).toEqual([1, 1]);
    expect(await clone.text('/etc/item8.conf')).toBe('8 web-01\n');
    expect(await clone.undoRecords()).toHaveLength(10);
  });

  it('finishes a task whose agent died part-way through its write, from the undo records', async () => {
    const clean = await makeClone();
    const expected = await applyCustomization({ ...clean, items: ITEMS, variables: VARIABLES, from: 0, to: 3 });
    const expectedFiles = await clean.files(['/etc/hostname', '/etc/hosts', '/etc/motd']);
    await clean.cleanup();
    // /etc/hostname is written, then the agent dies before /etc/hosts and /etc/motd.
    clone.recording.dieAtChange(2);
    await expect(apply(0, 3)).rejects.toThrow('simulated crash');
    clone.recording.revive();
    expect(await clone.text('/etc/hostname')).toBe('web-01\n');
    expect(await clone.undoRecords()).toEqual(['item-0.json', 'item-1.json', 'item-2.json']);
    const result = await apply(0, 3);
    expect(result, 'the file before item 0 is the one its record saved').toEqual(expected);
    expect(await clone.files(['/etc/hostname', '/etc/hosts', '/etc/motd'])).toEqual(expectedFiles);
  });

  it('finishes an item interrupted between its undo record and its write, from the saved content', async () => {
    // What an agent that died between the two leaves behind (a failure it lives through is undone).
    const seed = Buffer.from(SEED_FILES['/etc/hostname']!.content);
    await clone.undo.put({
      index: 0,
      path: '/etc/hostname',
      existed: true,
      mode: SEED_FILES['/etc/hostname']!.mode,
      contentBase64: seed.toString('base64'),
      sha256After: sha256('web-01\n'),
    });
    expect(await clone.text('/etc/hostname')).toBe(SEED_FILES['/etc/hostname']!.content);
    const result = await apply(0, 2);
    expect(await clone.text('/etc/hostname')).toBe('web-01\n');
    expect(await clone.text('/etc/hosts')).toBe(HOSTS_AFTER);
    expect(result.changes[0]?.sha256Before).toBe(sha256(SEED_FILES['/etc/hostname']!.content));
  });

  it('chains items on the same file, each seeing the result of the one before', async () => {
    const items: CustomizationItem[] = [
      { type: 'file', path: '/etc/app.conf', content: 'name=${hostname}\nport=80\n' },
      { type: 'replace', path: '/etc/app.conf', pattern: 'port=\\d+', replacement: 'port=8080' },
      {
        type: 'replace',
        path: '/etc/app.conf',
        pattern: '^name=(.*)$',
        replacement: 'name=$1 # was $&, literal $${hostname}',
        flags: 'm',
      },
    ];
    await applyCustomization({ ...clone, items, variables: VARIABLES, from: 0, to: 3 });
    expect(await clone.text('/etc/app.conf')).toBe('name=web-01 # was name=web-01, literal ${hostname}\nport=8080\n');
  });

  it('records a replace that matches nothing, with equal hashes before and after', async () => {
    const items: CustomizationItem[] = [
      { type: 'replace', path: '/etc/hosts', pattern: 'no such text', replacement: 'x' },
    ];
    const result = await applyCustomization({ ...clone, items, variables: {}, from: 0, to: 1 });
    expect(result.changes[0]?.sha256Before).toBe(result.changes[0]?.sha256After);
    expect(await clone.text('/etc/hosts')).toBe(SEED_FILES['/etc/hosts']!.content);
  });

  it('writes a file item from its source, byte for byte, through readSource', async () => {
    const bytes = Buffer.from([0, 255, 10, 13, 0x80, 0xfe]);
    const items: CustomizationItem[] = [{ type: 'file', path: '/usr/local/bin/tool', source: 'bundles/tool.bin' }];
    const asked: string[] = [];
    const readSource = async (source: string) => {
      asked.push(source);
      return bytes;
    };
    await applyCustomization({ ...clone, items, variables: {}, from: 0, to: 1, readSource });
    expect(asked).toEqual(['bundles/tool.bin']);
    expect(await clone.files(['/usr/local/bin/tool'])).toEqual({
      '/usr/local/bin/tool': { sha256: sha256(bytes), mode: 0o755 },
    });
  });
});

describe('applyCustomization refusing bad input changes nothing', () => {
  let clone: Clone & { recording: RecordingFilesystem };
  let imageBefore: string;
  beforeEach(async () => {
    clone = await makeClone();
    imageBefore = await clone.imageSha256();
  });
  afterEach(async () => {
    expect(clone.recording.changes, 'no write reached the image').toBe(0);
    expect(await clone.imageSha256()).toBe(imageBefore);
    expect(await clone.undoRecords()).toEqual([]);
    await clone.cleanup();
  });

  it('names every missing variable and the items that use it', async () => {
    const run = applyCustomization({ ...clone, items: ITEMS, variables: {}, from: 0, to: 3 });
    await expect(run).rejects.toMatchObject({
      code: 'missing_variable',
      names: ['domain', 'hostname'],
      usedBy: { hostname: [0, 1, 2], domain: [1] },
    });
    await expect(run).rejects.toThrow(/domain \(item 1\); hostname \(item 0, 1, 2\)/);
  });

  it('stops a catastrophic pattern within bounded time, naming the item and the pattern', async () => {
    const items: CustomizationItem[] = [
      { type: 'file', path: '/etc/hostname', content: 'changed\n' },
      { type: 'file', path: '/etc/evil', content: `${'a'.repeat(40)}b` },
      { type: 'replace', path: '/etc/evil', pattern: '(a+)+$', replacement: 'x' },
    ];
    const started = Date.now();
    const run = applyCustomization({ ...clone, items, variables: {}, from: 0, to: 3 });
    await expect(run).rejects.toMatchObject({ code: 'regex_timeout', index: 2, pattern: '(a+)+$', timeoutMs: 2000 });
    await expect(run).rejects.toThrow(/item 2.*\(a\+\)\+\$.*anchor/s);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a replace on a missing file', async () => {
    const items: CustomizationItem[] = [
      { type: 'file', path: '/etc/hostname', content: 'changed\n' },
      { type: 'replace', path: '/etc/missing.conf', pattern: 'a', replacement: 'b' },
    ];
    await expect(applyCustomization({ ...clone, items, variables: {}, from: 0, to: 2 })).rejects.toMatchObject({
      code: 'file_not_found',
      index: 1,
    });
  });

  it('refuses a file item whose directory is not in the image', async () => {
    const items: CustomizationItem[] = [
      { type: 'file', path: '/etc/hostname', content: 'changed\n' },
      { type: 'file', path: '/etc/app.d/app.conf', content: 'x' },
    ];
    await expect(applyCustomization({ ...clone, items, variables: {}, from: 0, to: 2 })).rejects.toMatchObject({
      code: 'missing_directory',
      index: 1,
      directory: '/etc/app.d',
    });
  });

  it('validates every item up to `to` before the first change', async () => {
    const items = [...ITEMS, { type: 'file', path: 'etc/relative', content: 'x' }] as CustomizationItem[];
    await expect(applyCustomization({ ...clone, items, variables: VARIABLES, from: 0, to: 4 })).rejects.toMatchObject({
      code: 'invalid_item',
      index: 3,
    });
  });

  it('reports a source that cannot be read', async () => {
    const items: CustomizationItem[] = [
      { type: 'file', path: '/etc/hostname', content: 'changed\n' },
      { type: 'file', path: '/etc/tool.bin', source: 'bundles/missing.bin' },
    ];
    const readSource = async () => {
      throw new Error('ENOENT: no such file');
    };
    await expect(
      applyCustomization({ ...clone, items, variables: {}, from: 0, to: 2, readSource }),
    ).rejects.toMatchObject({
      code: 'source_unreadable',
      index: 1,
    });
  });

  it('refuses an invalid regular expression', async () => {
    const items: CustomizationItem[] = [{ type: 'replace', path: '/etc/hosts', pattern: '(unclosed', replacement: '' }];
    await expect(applyCustomization({ ...clone, items, variables: {}, from: 0, to: 1 })).rejects.toMatchObject({
      code: 'invalid_pattern',
    });
  });
});
