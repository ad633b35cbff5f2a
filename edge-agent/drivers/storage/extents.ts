/**
 * Where a file holds data: its extent map, so a sparse copy reads only that and never a hole. Node has no
 * SEEK_DATA; `filefrag` (e2fsprogs, which the agent needs for debugfs anyway) prints the FIEMAP map in one
 * call of a few milliseconds. `-s` flushes the file first, so data still in the page cache (delayed
 * allocation) is in the map. Unwritten (preallocated) extents count as data: they read as zeros, which the
 * copy turns into holes, and reading them is safe even if the map and the page cache disagree.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Range {
  offset: number;
  length: number;
}

/** Extents closer than this are read as one range: a few zero blocks cost less than another read. */
const MERGE_GAP_BYTES = 1024 * 1024;

/** One extent line of `filefrag -v`: ` 0:  16384..  32767:  24..  16407:  16384:  flags` (in blocks). */
const EXTENT = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):/;
const BLOCK_SIZE = /\((?:\d+) blocks? of (\d+) bytes\)/;

/** Ranges of `file` (of `sizeBytes`) that hold data, in order, merged; undefined when the map is not available. */
export async function dataRanges(
  file: string,
  sizeBytes: number,
  opts: { signal?: AbortSignal; mergeGap?: boolean } = {},
): Promise<Range[] | undefined> {
  const { signal } = opts;
  // A fragmented image has many extent lines: the whole output is needed, not a tail.
  const out = await exec('filefrag', ['-s', '-v', file], { signal, maxBuffer: 256 * 1024 * 1024 }).catch(
    () => undefined,
  );
  return out && parseFilefrag(out.stdout, sizeBytes, opts.mergeGap === false ? 0 : MERGE_GAP_BYTES);
}

/**
 * The data ranges `filefrag -v` output describes, clipped to `sizeBytes`, those less than `mergeGap` apart
 * merged; undefined if it cannot be read.
 */
export function parseFilefrag(text: string, sizeBytes: number, mergeGap = MERGE_GAP_BYTES): Range[] | undefined {
  const block = Number(BLOCK_SIZE.exec(text)?.[1]);
  if (!block) return undefined;
  const ranges: Range[] = [];
  for (const line of text.split('\n')) {
    const m = EXTENT.exec(line);
    if (!m) continue;
    const start = Number(m[1]) * block;
    const end = Math.min((Number(m[2]) + 1) * block, sizeBytes);
    if (end <= start) continue;
    const last = ranges.at(-1);
    if (last && start < last.offset + last.length) return undefined;
    if (last && start - (last.offset + last.length) <= mergeGap) last.length = end - last.offset;
    else ranges.push({ offset: start, length: end - start });
  }
  return ranges;
}
