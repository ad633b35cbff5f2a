/** Turning an image with a backing chain (a qcow2 overlay) into a standalone sparse raw image. */
import { runChecked } from './exec';
import type { ImageFormat } from './interface';
import { syncFile } from './sparse-copy';

const PERCENT = /\((\d+(?:\.\d+)?)\/100%\)/g;

/** Virtual disk size: what the machine sees, whatever the container. */
export async function virtualSize(file: string, format: ImageFormat): Promise<number> {
  const { output } = await runChecked('qemu-img', ['info', '--output=json', '-f', format, file]);
  return Number(JSON.parse(output)['virtual-size']);
}

/**
 * `qemu-img convert -O raw` of `src` (and everything it reads through to) into the new file `tmp`, leaving
 * zero runs as holes (qemu-img's default `-S 4k`), flushed to disk. Progress is in percent.
 */
export async function convertToRaw(
  src: string,
  format: ImageFormat,
  tmp: string,
  opts: { signal?: AbortSignal; onPercent?: (percent: number) => void } = {},
): Promise<void> {
  const onStdout = (text: string) => {
    const last = [...text.matchAll(PERCENT)].at(-1);
    if (last) opts.onPercent?.(Number(last[1]));
  };
  const args = ['convert', '-p', '-f', format, '-O', 'raw', src, tmp];
  await runChecked('qemu-img', args, { signal: opts.signal, onStdout, what: { operation: 'Flattening', path: src } });
  await syncFile(tmp);
}
