import { describe, expect, it } from 'vitest';
import {
  formatMissing,
  formatOptional,
  javaMajorVersion,
  missingOptionalTools,
  missingPrerequisites,
  type Prerequisite,
  prerequisites,
} from '../../../infra/local/prereqs';

const named = (part: string) => prerequisites.find((p) => p.name.includes(part))!;

describe('prerequisites of the local stack', () => {
  it('finds java 17+, debugfs, setpriv and qemu-img installed on this machine', async () => {
    const missing = await missingPrerequisites();
    expect(
      missing.map((p) => p.name),
      formatMissing(missing),
    ).toEqual([]);
    for (const tool of ['java', 'debugfs', 'setpriv', 'qemu-img']) expect(await named(tool).check(), tool).toBe(true);
  });

  it('reads the major version from java -version output, old and new style', () => {
    expect(javaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajorVersion('java version "1.8.0_392"')).toBe(8);
    expect(javaMajorVersion('bash: java: command not found')).toBeUndefined();
  });

  it('names every missing tool and gives one apt-get line that installs them all', () => {
    const fake: Prerequisite[] = [
      { name: 'frobnicator', check: async () => false, install: 'apt-get install -y frob-tools' },
      { name: 'widget', check: async () => false, install: 'apt-get install -y widgets', debianPackage: 'widgets' },
      { name: 'widget helper', check: async () => false, install: 'apt-get install -y widgets' },
    ];
    const message = formatMissing(fake);
    expect(message).toContain('frobnicator');
    expect(message).toContain('widget helper');
    const aptLines = message.split('\n').filter((line) => line.includes('apt-get install'));
    expect(aptLines).toHaveLength(1);
    expect(aptLines[0]).toMatch(/apt-get install -y frob-tools widgets$/);
  });

  it('says nothing is missing when the list is empty', () => {
    expect(formatMissing([])).toMatch(/all prerequisites/i);
  });

  it('finds every optional tool on this machine, where CI installs them all', async () => {
    expect((await missingOptionalTools()).map((t) => t.tool)).toEqual([]);
  });

  it('says what a missing optional tool is for, with one apt-get line', () => {
    const message = formatOptional([
      { tool: 'ntfs-3g', for: 'customizing NTFS (Windows) clones', debianPackage: 'ntfs-3g' },
      { tool: 'tgtd', for: 'iscsi repositories', debianPackage: 'tgt' },
      { tool: 'tgtadm', for: 'iscsi repositories', debianPackage: 'tgt' },
    ]);
    expect(message).toContain('  - ntfs-3g: customizing NTFS (Windows) clones');
    expect(message.split('\n').at(-1)).toBe('Install them with: sudo apt-get install -y ntfs-3g tgt');
    expect(formatOptional([])).toBe('');
  });
});
