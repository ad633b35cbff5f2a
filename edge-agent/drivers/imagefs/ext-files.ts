/**
 * The debugfs passes behind ExtImageFilesystem: many files read in one run; many changes written in
 * one run, which then opens the volume again and reads the changed files back. debugfs exits 0 whatever its commands did,
 * so every line it prints on standard error is accounted for: a "not found" that names a path asked
 * about is an answer, anything else is a failure.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolFailedError } from '../errors';
import { checkChanges, mismatch } from './changes';
import { deviceName, quoteArg as q, runDebugfs } from './debugfs';
import { WriteVerificationError } from './errors';
import { splitFsPath } from './fs-path';
import type { FileChange, FileEntry, FileSnapshot } from './interface';

const REGULAR_FILE = 0o100000;
/** What debugfs says, after the path, when a path (or a directory on its way) is not there. */
const NOT_FOUND = /^: (File not found by ext2_lookup|Ext2 inode is not a directory)\s*$/;
/** What `dump` says of an inode without readable data blocks (a fast symbolic link, a device). */
const SHORT_READ = /^dump: Attempt to read block from filesystem resulted in short read/;

export interface Target {
  imagePath: string;
  offsetBytes: number;
}

/** What is at each path (null where nothing is), with the content of regular files when `withContent`. */
export async function readPass(
  target: Target,
  workDir: string,
  paths: readonly string[],
  withContent: boolean,
): Promise<Map<string, FileEntry | null>> {
  const unique = [...new Set(paths)];
  for (const path of unique) splitFsPath(path);
  const read = readCommands(unique, workDir, withContent);
  const { sections, errors } = await runDebugfs({ ...target, workDir, writable: false }, read.commands);
  const found = await read.collect(sections, 0);
  if (unexplained(errors, found).length > 0)
    throw new ToolFailedError('debugfs', errors.join('\n'), { imagePath: target.imagePath });
  return found;
}

/**
 * Checks every change against `basis`, then makes them all in one writable run, which then closes the
 * volume (flushing it to the image), opens it again and reads every changed path back: the first that
 * is not as written is WriteVerificationError. `write` refuses to replace a file (and still exits 0),
 * so a replaced file is removed first; writing the bare name from inside its directory works with
 * every debugfs version, old ones included.
 */
export async function writePass(
  target: Target,
  workDir: string,
  changes: readonly FileChange[],
  basis: FileSnapshot,
): Promise<void> {
  checkChanges(changes, basis);
  const commands: string[] = [];
  for (const [i, change] of changes.entries()) {
    const { parent, name } = splitFsPath(change.path);
    const existing = basis.get(change.path) ?? null;
    if (change.content === null) {
      if (existing) commands.push(`rm ${q(change.path)}`);
      continue;
    }
    const owner = change.owner ?? existing ?? { uid: 0, gid: 0 };
    const source = join(workDir, `content-${i}`);
    await writeFile(source, change.content);
    commands.push(
      ...(existing ? [`rm ${q(change.path)}`] : []),
      `cd ${q(parent)}`,
      `write ${q(source)} ${q(name)}`,
      `sif ${q(change.path)} mode 0${(REGULAR_FILE | change.mode).toString(8)}`,
      `sif ${q(change.path)} uid ${owner.uid}`,
      `sif ${q(change.path)} gid ${owner.gid}`,
    );
  }
  if (commands.length === 0) return;
  const paths = changes.map((c) => c.path);
  const readBack = readCommands(paths, workDir, true);
  const reopen = ['close', `open ${q(deviceName(target.imagePath, target.offsetBytes))}`];
  const { sections, errors } = await runDebugfs({ ...target, workDir, writable: true }, [
    ...commands,
    ...reopen,
    ...readBack.commands,
  ]);
  const after = await readBack.collect(sections, commands.length + reopen.length);
  // Only a removed file may be missing when it is read back; any other line is the write failing.
  const removed = new Set(changes.filter((c) => c.content === null).map((c) => c.path));
  const failed = unexplained(errors, new Map([...after].filter(([path]) => removed.has(path))));
  if (failed.length > 0) throw new ToolFailedError('debugfs', errors.join('\n'), { imagePath: target.imagePath });
  for (const change of changes) {
    const problem = mismatch(change, after.get(change.path) ?? null);
    if (problem) throw new WriteVerificationError(target.imagePath, change.path, problem);
  }
}

/** `stat` (and `dump`) of each path, and how to read their answers from the run's sections. */
function readCommands(paths: readonly string[], workDir: string, withContent: boolean) {
  const out = (i: number) => join(workDir, `read-${i}`);
  const perPath = withContent ? 2 : 1;
  return {
    commands: paths.flatMap((p, i) => [`stat ${q(p)}`, ...(withContent ? [`dump ${q(p)} ${q(out(i))}`] : [])]),
    async collect(sections: string[], first: number): Promise<Map<string, FileEntry | null>> {
      const found = new Map<string, FileEntry | null>();
      for (const [i, path] of paths.entries()) {
        const entry = parseStat(sections[first + i * perPath] ?? '');
        if (entry && withContent && entry.type === 'regular') entry.content = await readFile(out(i));
        found.set(path, entry);
      }
      return found;
    },
  };
}

/**
 * The error lines a read does not explain: a "not found" naming a path found absent is its answer,
 * and `dump` of a symbolic link or device says "short read" (at most once for each).
 */
function unexplained(errors: string[], found: ReadonlyMap<string, FileEntry | null>): string[] {
  const absent = new Set([...found].filter(([, e]) => e === null).map(([path]) => path));
  let withoutData = [...found.values()].filter((e) => e && e.type !== 'regular' && e.type !== 'directory').length;
  return errors.filter((line) => {
    if (explained(line, absent)) return false;
    if (SHORT_READ.test(line) && withoutData > 0) {
      withoutData--;
      return false;
    }
    return true;
  });
}

/** A "not found" line that names one of the paths found absent. */
function explained(line: string, absent: ReadonlySet<string>): boolean {
  const colon = line.lastIndexOf(': ');
  return colon > 0 && absent.has(line.slice(0, colon)) && NOT_FOUND.test(line.slice(colon));
}

function parseStat(section: string): FileEntry | null {
  const type = /Type:\s+(\S+)/.exec(section)?.[1];
  const mode = /Mode:\s+([0-7]+)/.exec(section)?.[1];
  if (!/^Inode:/m.test(section) || type === undefined || mode === undefined) return null;
  const link = /Fast link dest:\s+"(.*)"/.exec(section)?.[1];
  return {
    type,
    mode: Number.parseInt(mode, 8) & 0o7777,
    uid: Number(/User:\s+(\d+)/.exec(section)?.[1] ?? 0),
    gid: Number(/Group:\s+(\d+)/.exec(section)?.[1] ?? 0),
    ...(link !== undefined ? { linkTarget: link } : {}),
  };
}
