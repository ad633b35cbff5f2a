/**
 * Registry items applied offline: the hive's bytes in, the hive's bytes out. The value is written as
 * a regedit file (every key from the hive's root down to the value's, since `hivexregedit --merge`
 * creates a key only under an existing parent) and merged into a private copy of the hive with
 * hivexregedit (Debian libwin-hivex-perl), never through a shell. The copy and the regedit file live
 * in a 0700 temporary directory that is removed whatever happens: with a `${secret:…}` in the data,
 * it holds the value for the duration of one hivexregedit run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RegistryItem } from '../../statemachines/customization';
import { ToolFailedError, ToolMissingError } from '../drivers/errors';

const execFileAsync = promisify(execFile);
const TIMEOUT_MS = 5 * 60 * 1000;

/** The hive `hive` with the item's value set. */
export async function mergeRegistryValue(hive: Buffer, item: RegistryItem): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'encompass-hive-'));
  const prefix = `HKEY_LOCAL_MACHINE\\${item.hive}`;
  const args = ['--merge', '--prefix', prefix, join(dir, 'hive'), join(dir, 'change.reg')];
  try {
    await writeFile(args[3]!, hive, { mode: 0o600 });
    await writeFile(args[4]!, regFile(prefix, item), { mode: 0o600 });
    try {
      await execFileAsync('hivexregedit', args, { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ToolMissingError('hivexregedit', 'libwin-hivex-perl', { cause: error });
      const e = error as { stderr?: string; code?: number };
      // Its output names the key and value, never the data (which may be a secret).
      throw new ToolFailedError(
        'hivexregedit',
        firstLine(e.stderr ?? String(error)),
        { args: ['--merge', '--prefix', prefix, `<${item.hive} hive>`], exitCode: e.code },
        { cause: error },
      );
    }
    return await readFile(args[3]!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A regedit file that sets the value, every key on its way declared so hivexregedit creates it. */
export function regFile(prefix: string, item: RegistryItem): string {
  const parts = item.key.split('\\');
  const keys = parts.map((_, i) => `[${prefix}\\${parts.slice(0, i + 1).join('\\')}]`);
  const name = item.name === '' ? '@' : `"${item.name.replace(/[\\"]/g, '\\$&')}"`;
  return `Windows Registry Editor Version 5.00\n\n${keys.join('\n\n')}\n${name}=${encodeValue(item)}\n`;
}

function encodeValue(item: RegistryItem): string {
  const utf16z = (s: string) => Buffer.concat([Buffer.from(s, 'utf16le'), Buffer.alloc(2)]);
  switch (item.valueType) {
    case 'dword':
      return `dword:${(item.data as number).toString(16).padStart(8, '0')}`;
    case 'qword': {
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64LE(BigInt(item.data as number));
      return `hex(b):${hex(bytes)}`;
    }
    case 'string':
      return `hex(1):${hex(utf16z(item.data as string))}`;
    case 'expand_string':
      return `hex(2):${hex(utf16z(item.data as string))}`;
    case 'multi_string':
      return `hex(7):${hex(Buffer.concat([...(item.data as string[]).map(utf16z), Buffer.alloc(2)]))}`;
    case 'binary':
      return `hex:${hex(Buffer.from(item.data as string, 'hex'))}`;
  }
}

function hex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(',');
}

/** Its first line, with any value data it quotes taken out: the data may be a secret. */
function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.replace(/ at \/usr\S+ line \d+.*$/, '').replace(/((?:hex(?:\([0-9a-f]\))?|dword):)[0-9a-f,]*/gi, '$1…');
}
