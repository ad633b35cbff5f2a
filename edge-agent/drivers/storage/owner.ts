/**
 * Which operation made an image: one line in the image's sidecar (`made-by`), written before the
 * image takes its name. A task that runs again under the same operation id (an agent restart, a
 * retried task) finds its own earlier image by it and may replace it; an image another operation
 * made, or one that was there before, is never taken for its own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeStateFile } from '../../state-file';
import { SIDECAR_SUFFIX } from './paths';

/** The marker's file name in the sidecar. */
export const MADE_BY = 'made-by';

const markerOf = (imageAbs: string) => path.join(`${imageAbs}${SIDECAR_SUFFIX}`, MADE_BY);

/** Notes that `owner` makes the image at `imageAbs` (before it exists under that name). */
export async function markOwner(imageAbs: string, owner: string): Promise<void> {
  await writeStateFile(markerOf(imageAbs), { operation: owner });
}

/** The operation that made the image at `imageAbs`, if one was noted. */
export async function ownerOf(imageAbs: string): Promise<string | undefined> {
  const text = await fs.readFile(markerOf(imageAbs), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as { operation?: unknown };
    return typeof v.operation === 'string' ? v.operation : undefined;
  } catch {
    return undefined;
  }
}
