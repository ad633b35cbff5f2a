/**
 * The ext2/3/4 superblock: enough of it to recognise the filesystem, tell its flavour the way blkid
 * does, and see whether its journal still needs recovery.
 */
import type { ReadAt } from './partitions';

export interface ExtSuperblock {
  type: 'ext2' | 'ext3' | 'ext4';
  label?: string;
  uuid?: string;
  /** The journal holds transactions not yet replayed (the filesystem was not unmounted cleanly). */
  needsRecovery: boolean;
}

/** The superblock starts 1024 bytes into the volume; its magic sits 56 bytes into it. */
export const SUPERBLOCK_OFFSET = 1024;
const MAGIC = 0xef53;

const COMPAT_HAS_JOURNAL = 0x4;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
/** Feature bits an ext2 (or, with a journal, ext3) driver understands; anything beyond makes it ext4. */
const EXT2_INCOMPAT = 0x2 | 0x10; // filetype, meta_bg
const EXT3_INCOMPAT = EXT2_INCOMPAT | INCOMPAT_RECOVER;
const EXT23_RO_COMPAT = 0x1 | 0x2 | 0x4; // sparse_super, large_file, btree_dir

export async function probeExt(read: ReadAt, offsetBytes: number): Promise<ExtSuperblock | null> {
  return parseExtSuperblock(await read(offsetBytes + SUPERBLOCK_OFFSET, 256));
}

/** `sb` holds (at least the first 256 bytes of) the superblock. Null when it is not an ext filesystem. */
export function parseExtSuperblock(sb: Buffer): ExtSuperblock | null {
  if (sb.length < 136 || sb.readUInt16LE(56) !== MAGIC) return null;
  const revision = sb.readUInt32LE(76);
  const compat = revision >= 1 ? sb.readUInt32LE(92) : 0;
  const incompat = revision >= 1 ? sb.readUInt32LE(96) : 0;
  const roCompat = revision >= 1 ? sb.readUInt32LE(100) : 0;
  // An external journal device carries the same magic but holds no files.
  if (incompat & INCOMPAT_JOURNAL_DEV) return null;
  const hasJournal = (compat & COMPAT_HAS_JOURNAL) !== 0;
  const onlyOld =
    (roCompat & ~EXT23_RO_COMPAT) === 0 && (incompat & ~(hasJournal ? EXT3_INCOMPAT : EXT2_INCOMPAT)) === 0;
  const type = !onlyOld ? 'ext4' : hasJournal ? 'ext3' : 'ext2';
  const result: ExtSuperblock = { type, needsRecovery: (incompat & INCOMPAT_RECOVER) !== 0 };
  if (revision >= 1) {
    const uuid = sb.subarray(104, 120);
    if (uuid.some((b) => b !== 0)) result.uuid = formatUuid(uuid);
    const label = sb.subarray(120, 136).toString('utf8').replace(/\0.*$/s, '');
    if (label) result.label = label;
  }
  return result;
}

function formatUuid(b: Buffer): string {
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
