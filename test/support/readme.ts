/**
 * The README's paste-along `sh` blocks, and bash to paste them into, as a user would: in a directory
 * outside the project, with the two variables `npm start` prints.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** A block's first line carries this to be left out of the README tests (it says what it needs). */
export const NOT_RUN = '# not run by the README test';

export interface ShBlock {
  /** The nearest heading above the block. */
  heading: string;
  text: string;
}

/** Every `sh` block of the README, in order, with the heading it sits under. */
async function shBlocks(): Promise<ShBlock[]> {
  const text = await readFile(README, 'utf8');
  const blocks: ShBlock[] = [];
  let heading = '';
  let open: string[] | undefined;
  let fenced = false;
  for (const line of text.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push({ heading, text: `${open.join('\n')}\n` });
        open = undefined;
      } else open.push(line);
    } else if (line.startsWith('```')) {
      if (line === '```sh') open = [];
      else fenced = !fenced;
    } else if (!fenced && /^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
  }
  return blocks;
}

/** The index of the first block under `heading`, or a clear error naming what the README lacks. */
function firstUnder(blocks: ShBlock[], heading: string): number {
  const i = blocks.findIndex((b) => b.heading === heading);
  if (i < 0) throw new Error(`the README has no sh block under "${heading}"`);
  return i;
}

/** The five-minute walkthrough: the first `sh` block under its heading. */
export async function walkthroughBlock(): Promise<string> {
  const blocks = await shBlocks();
  return blocks[firstUnder(blocks, 'Five-minute walkthrough')]!.text;
}

/**
 * The blocks that continue the walkthrough's session: from the upload of a master to the export and
 * import, in order, without those marked {@link NOT_RUN}.
 */
export async function scenarioBlocks(): Promise<ShBlock[]> {
  const blocks = await shBlocks();
  const from = firstUnder(blocks, 'Uploading a master instead');
  const last = firstUnder(blocks, 'Export and import');
  const to = blocks.findIndex((b, i) => i > last && b.heading !== 'Export and import');
  return blocks.slice(from, to < 0 ? undefined : to).filter((b) => !b.text.split('\n', 1)[0]!.includes(NOT_RUN));
}

/** Runs a script in one bash, against the test stack, as its admin. */
export function pasteIntoBash(script: string, cwd: string, timeoutMs: number): { status: number | null; out: string } {
  const s = inject('stack');
  const r = spawnSync('bash', ['-s'], {
    cwd,
    input: script,
    env: { ...process.env, ENCOMPASS_URL: s.url, ENCOMPASS_TOKEN: s.adminToken },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}
