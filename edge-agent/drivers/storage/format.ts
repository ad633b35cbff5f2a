import { promises as fs } from 'node:fs';
import { CorruptImageError } from './errors';
import { run } from './exec';
import type { ImageFormat } from './interface';

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const SECTOR_BYTES = 512;

/** `qemu-img check` exit codes meaning the image is usable (3: leaked clusters, wasted space only). */
const QEMU_CHECK_OK = new Set([0, 3]);

export async function detectFormat(file: string): Promise<ImageFormat> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(QCOW2_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(QCOW2_MAGIC) ? 'qcow2' : 'raw';
  } finally {
    await fh.close();
  }
}

/** Throws CorruptImageError when `qemu-img check` cannot open the qcow2 or finds corruption. */
export async function checkQcow2(file: string): Promise<void> {
  const { exitCode, output } = await run('qemu-img', ['check', '-f', 'qcow2', file]);
  if (QEMU_CHECK_OK.has(exitCode)) return;
  const firstLine = output.split('\n').find((l) => l.trim() !== '') ?? `exit code ${exitCode}`;
  throw new CorruptImageError(file, `qemu-img check failed (${firstLine.trim()})`);
}

/** Validates the image's shape for its format; returns the format. */
export async function validateImage(file: string, sizeBytes: number): Promise<ImageFormat> {
  if (sizeBytes === 0) throw new CorruptImageError(file, 'the file is empty');
  const format = await detectFormat(file);
  if (format === 'qcow2') {
    await checkQcow2(file);
  } else if (sizeBytes % SECTOR_BYTES !== 0) {
    throw new CorruptImageError(
      file,
      `a raw image must be a whole number of ${SECTOR_BYTES}-byte sectors, this one is ${sizeBytes} bytes`,
    );
  }
  return format;
}
