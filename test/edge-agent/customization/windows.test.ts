// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} and ${secret:NAME} in plain strings are the customization syntax under test.
/**
 * Windows clones: a sysprep answer file rendered into a real NTFS volume (mkntfs, partition 2 of an
 * MBR disk) with the hostname and a secret, and registry values merged into a real hive file inside
 * it, read back with ntfscat and hivexget (not through the driver), then rolled back byte for byte.
 * The hive is the minimal regf hive of ./regf.ts (hivex cannot create one and Debian ships none).
 * The secret store is a map here; the agent's resolver over the real store is tested with the agent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyCustomization } from '../../../edge-agent/customization/apply';
import type { CustomizationItem } from '../../../edge-agent/customization/items';
import { rollbackCustomization } from '../../../edge-agent/customization/rollback';
import { FileUndoStore } from '../../../edge-agent/customization/undo-store';
import type { VolumeInfo } from '../../../edge-agent/drivers/imagefs/interface';
import { NtfsImageFilesystem } from '../../../edge-agent/drivers/imagefs/ntfs';
import { customizationItem } from '../../../statemachines/customization';
import { run, type TestImage, tempDir } from '../drivers/imagefs/images';
import { makeNtfsImage, ntfscat } from '../drivers/imagefs/ntfs-images';
import { minimalHive } from './regf';

const PASSWORD = 'Pa55-w0rd-never-stored';
const UNATTEND = '/Windows/Panther/unattend.xml';
const SYSTEM = '/Windows/System32/config/SYSTEM';
const COMPUTER_NAME = 'ControlSet001\\Control\\ComputerName\\ComputerName';

/** The example answer file of a master's template: specialize names the machine and joins the domain. */
const UNATTEND_TEMPLATE = readFileSync(new URL('../../../examples/windows/unattend.xml', import.meta.url), 'utf8');

const ITEMS: CustomizationItem[] = [
  { type: 'file', path: UNATTEND, content: UNATTEND_TEMPLATE },
  {
    type: 'registry',
    hive: 'SYSTEM',
    key: COMPUTER_NAME,
    name: 'ComputerName',
    valueType: 'string',
    data: '${hostname}',
  },
];
const VARIABLES = {
  hostname: 'WIN-01',
  timezone: 'W. Europe Standard Time',
  domain: 'corp.example',
  joinUser: 'joiner',
};
const SECRETS: Record<string, string> = { 'local-admin': PASSWORD, 'domain-join': 'join-secret-42' };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Windows customization on an NTFS volume', () => {
  const fs = new NtfsImageFilesystem();
  let image: TestImage;
  let volume: VolumeInfo;
  let undoDir: string;
  let undo: FileUndoStore;
  let hive: Buffer;
  const read = async (name: string) => SECRETS[name] ?? Promise.reject(new Error(`no secret ${name}`));
  const apply = (items: CustomizationItem[], from: number, to: number, readSecret = read) =>
    applyCustomization({
      imagePath: image.imagePath,
      fs,
      volume,
      items,
      variables: VARIABLES,
      from,
      to,
      undo,
      readSecret,
    });
  const rollback = (from: number, to: number) =>
    rollbackCustomization({ imagePath: image.imagePath, fs, volume, from, to, undo });
  /** The hive as it is in the image now, read with ntfscat, queried with hivexget. */
  const hivexget = async (key: string, value?: string) => {
    const file = join(image.dir, 'SYSTEM.hive');
    await writeFile(file, await ntfscat(image, SYSTEM));
    return (await run('hivexget', [file, `\\${key}`, ...(value === undefined ? [] : [value])])).trim();
  };

  beforeEach(async () => {
    hive = minimalHive();
    image = await makeNtfsImage({
      layout: 'mbr',
      seed: async (root) => {
        await mkdir(join(root, 'Windows/Panther'), { recursive: true });
        await mkdir(join(root, 'Windows/System32/config'), { recursive: true });
        await writeFile(join(root, SYSTEM), hive);
      },
    });
    volume = (await fs.detect(image.imagePath))!;
    undoDir = await tempDir('encompass-undo-');
    undo = new FileUndoStore(undoDir);
  });
  afterEach(async () => {
    await image.cleanup();
    await rm(undoDir, { recursive: true, force: true });
  });

  it('renders unattend.xml with the hostname and the secrets, and sets ComputerName in the SYSTEM hive', async () => {
    await apply(ITEMS, 0, 2);
    const xml = (await ntfscat(image, UNATTEND)).toString();
    expect(xml).toContain('<ComputerName>WIN-01</ComputerName>');
    expect(xml).toContain('<TimeZone>W. Europe Standard Time</TimeZone>');
    expect(xml).toContain('<JoinDomain>corp.example</JoinDomain>');
    expect(xml).toContain('<Password>join-secret-42</Password>');
    expect(xml).toContain(`<Value>${PASSWORD}</Value>`);
    expect(xml).not.toContain('${');
    expect(await hivexget(COMPUTER_NAME, 'ComputerName')).toBe('WIN-01');
  });

  it('keeps the secrets out of its result and its undo records', async () => {
    const result = await apply(ITEMS, 0, 2);
    const kept = [
      JSON.stringify(result),
      ...(await Promise.all((await readdir(undoDir)).map((f) => readFile(join(undoDir, f), 'utf8')))),
    ];
    expect(kept).toHaveLength(3);
    for (const text of kept) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(PASSWORD).toString('base64').slice(0, 12));
      expect(text).not.toContain('join-secret-42');
    }
  });

  it('rolls back byte for byte: the answer file is gone and the hive is the seed again', async () => {
    await apply(ITEMS, 0, 2);
    await rollback(2, 0);
    await expect(ntfscat(image, UNATTEND)).rejects.toThrow();
    expect(sha256(await ntfscat(image, SYSTEM))).toBe(sha256(hive));
    expect(await readdir(undoDir)).toEqual([]);
    const whole = sha256(await readFile(image.imagePath));
    await rollback(2, 0);
    expect(sha256(await readFile(image.imagePath)), 'a retried rollback changes no byte of the image').toBe(whole);
  });

  it('sets values of every type, creating the keys on the way, and the default value', async () => {
    const key = 'Software\\Encompass\\Test';
    const values: CustomizationItem[] = [
      { type: 'registry', hive: 'SYSTEM', key, name: 'Count', valueType: 'dword', data: 42 },
      { type: 'registry', hive: 'SYSTEM', key, name: 'Big', valueType: 'qword', data: 2 ** 40 },
      { type: 'registry', hive: 'SYSTEM', key, name: 'Path', valueType: 'expand_string', data: '%SystemRoot%\\x' },
      { type: 'registry', hive: 'SYSTEM', key, name: 'List', valueType: 'multi_string', data: ['a', 'b c'] },
      { type: 'registry', hive: 'SYSTEM', key, name: 'Blob', valueType: 'binary', data: '00ff10' },
      { type: 'registry', hive: 'SYSTEM', key, name: 'A "quoted" \\ name', valueType: 'string', data: 'q' },
      { type: 'registry', hive: 'SYSTEM', key, name: '', valueType: 'string', data: 'default' },
    ];
    await apply(values, 0, values.length);
    const all = await hivexget(key);
    expect(all).toContain('"Count"=dword:0000002a');
    expect(all).toContain('"Big"=hex(11):00,00,00,00,00,01,00,00'); // REG_QWORD
    expect(all).toContain('"Blob"=hex(3):00,ff,10'); // REG_BINARY
    expect(all).toContain('"List"=hex(7):61,00,00,00,62,00,20,00,63,00,00,00,00,00'); // REG_MULTI_SZ
    expect(await hivexget(key, 'Path')).toBe('%SystemRoot%\\x');
    expect(await hivexget(key, 'A "quoted" \\ name')).toBe('q');
    expect(await hivexget(key, '@')).toBe('default');
    await rollback(values.length, 3);
    expect(await hivexget(key)).not.toContain('List');
    expect(await hivexget(key, 'Count')).toBe('42');
  });

  it('refuses to apply when a secret cannot be read, naming it and its item, and changes nothing', async () => {
    const before = sha256(await readFile(image.imagePath));
    const failed = apply(ITEMS, 0, 2, async () => {
      throw new Error('ResourceNotFoundException');
    });
    await expect(failed).rejects.toMatchObject({ code: 'secret_unavailable' });
    await expect(failed).rejects.toThrow(/item 0 uses \$\{secret:domain-join\}.*PUT \/v1\/sites\/\{site\}\/secrets/);
    expect(sha256(await readFile(image.imagePath))).toBe(before);
    expect(await readdir(undoDir)).toEqual([]);
  });

  it('refuses a secret in a path or a registry key, and a registry item on a hive the image lacks', async () => {
    const inPath: CustomizationItem = { type: 'file', path: '/Windows/${secret:local-admin}', content: 'x' };
    await expect(apply([inPath], 0, 1)).rejects.toMatchObject({ code: 'invalid_item' });
    const software: CustomizationItem = {
      type: 'registry',
      hive: 'SOFTWARE',
      key: 'X',
      name: 'Y',
      valueType: 'dword',
      data: 1,
    };
    await expect(apply([software], 0, 1)).rejects.toMatchObject({ code: 'file_not_found' });
  });
});

describe('the registry item schema shared by the functions and the agent', () => {
  const ok = {
    type: 'registry',
    hive: 'SOFTWARE',
    key: 'Microsoft\\Windows NT\\CurrentVersion\\Winlogon',
    name: 'AutoAdminLogon',
    valueType: 'string',
    data: '1',
  };

  it('accepts a value of each type with data of that type', () => {
    expect(customizationItem.safeParse(ok).success).toBe(true);
    expect(customizationItem.safeParse({ ...ok, valueType: 'dword', data: 1 }).success).toBe(true);
    expect(customizationItem.safeParse({ ...ok, valueType: 'multi_string', data: ['a'] }).success).toBe(true);
  });

  it.each([
    ['an unknown hive', { hive: 'HARDWARE' }],
    ['a key with HKEY_ in front', { key: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\X' }],
    ['an empty key component', { key: 'A\\\\B' }],
    ['a dword out of range', { valueType: 'dword', data: 2 ** 32 }],
    ['a string for a dword', { valueType: 'dword', data: '1' }],
    ['odd hex digits', { valueType: 'binary', data: 'abc' }],
    ['a secret in the key', { key: 'A\\${secret:x}' }],
    ['an unknown field', { path: '/x' }],
  ])('refuses %s', (_, change) => {
    expect(customizationItem.safeParse({ ...ok, ...change }).success).toBe(false);
  });

  it('refuses a secret in a file path or pattern, and takes one in content and replacements', () => {
    expect(customizationItem.safeParse({ type: 'file', path: '/a/${secret:x}', content: '' }).success).toBe(false);
    expect(
      customizationItem.safeParse({ type: 'replace', path: '/a', pattern: '${secret:x}', replacement: '' }).success,
    ).toBe(false);
    expect(customizationItem.safeParse({ type: 'file', path: '/a', content: '${secret:x}' }).success).toBe(true);
    expect(
      customizationItem.safeParse({ type: 'replace', path: '/a', pattern: 'p', replacement: '${secret:x}' }).success,
    ).toBe(true);
  });
});
