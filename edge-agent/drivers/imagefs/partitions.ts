/**
 * Partition tables of raw disk images (MBR and GPT), read straight from the image file.
 * An image without a valid table is reported as scheme `none`: it may hold a bare filesystem.
 */
import { type FileHandle, open } from 'node:fs/promises';

export interface Partition {
  /** 1-based, as Linux numbers them: MBR logical partitions start at 5. */
  number: number;
  offsetBytes: number;
  sizeBytes: number;
  /** MBR: the type byte as two hex digits (`83`); GPT: the type GUID in upper case. */
  type: string;
}

export interface PartitionTable {
  scheme: 'none' | 'mbr' | 'gpt';
  partitions: Partition[];
}

/** Reads `length` bytes at `offset`; bytes past the end of the image read as zero. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

const MBR_SIGNATURE = 0xaa55;
const GPT_PROTECTIVE = 0xee;
const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
/** Bounds that keep a corrupt table from making us read or loop without end. */
const MAX_LOGICAL_PARTITIONS = 128;
const MAX_GPT_ENTRIES_BYTES = 1024 * 1024;

export function readerFor(file: FileHandle): ReadAt {
  return async (offset, length) => {
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, offset);
    return buffer;
  };
}

/** Opens the image, hands a reader and its size to `use`, and closes it again. */
export async function withImageReader<T>(
  imagePath: string,
  use: (read: ReadAt, sizeBytes: number) => Promise<T>,
): Promise<T> {
  const file = await open(imagePath, 'r');
  try {
    return await use(readerFor(file), (await file.stat()).size);
  } finally {
    await file.close();
  }
}

export async function readPartitionTable(imagePath: string): Promise<PartitionTable> {
  return withImageReader(imagePath, parsePartitionTable);
}

/**
 * The first volume `probe` recognizes: at the start of the bare image, else in a partition of its
 * table (in table order; a partition past the image's end is skipped).
 */
export async function findVolume<T>(
  read: ReadAt,
  sizeBytes: number,
  probe: (read: ReadAt, offsetBytes: number) => Promise<T | null>,
): Promise<{ found: T; offsetBytes: number; partition?: number } | null> {
  const bare = await probe(read, 0);
  if (bare) return { found: bare, offsetBytes: 0 };
  for (const partition of (await parsePartitionTable(read, sizeBytes)).partitions) {
    if (partition.offsetBytes >= sizeBytes) continue;
    const found = await probe(read, partition.offsetBytes);
    if (found) return { found, offsetBytes: partition.offsetBytes, partition: partition.number };
  }
  return null;
}

export async function parsePartitionTable(read: ReadAt, sizeBytes: number): Promise<PartitionTable> {
  const mbr = await read(0, 512);
  if (mbr.readUInt16LE(510) !== MBR_SIGNATURE) return { scheme: 'none', partitions: [] };
  const primaries = [0, 1, 2, 3].map((i) => mbrEntry(mbr, i, 0)).filter((e) => e.sectors > 0 && e.type !== 0);
  if (primaries.some((e) => e.type === GPT_PROTECTIVE)) {
    const partitions = await readGpt(read, sizeBytes);
    return partitions ? { scheme: 'gpt', partitions } : { scheme: 'none', partitions: [] };
  }
  const partitions: Partition[] = [];
  for (const entry of primaries) {
    if (EXTENDED_TYPES.has(entry.type)) partitions.push(...(await readLogical(read, entry.startLba)));
    else partitions.push(toPartition(entry.slot + 1, entry, 512));
  }
  partitions.sort((a, b) => a.number - b.number);
  return { scheme: 'mbr', partitions };
}

interface MbrEntry {
  slot: number;
  type: number;
  startLba: number;
  sectors: number;
}

function mbrEntry(sector: Buffer, slot: number, baseLba: number): MbrEntry {
  const at = 446 + 16 * slot;
  return {
    slot,
    type: sector[at + 4]!,
    startLba: baseLba + sector.readUInt32LE(at + 8),
    sectors: sector.readUInt32LE(at + 12),
  };
}

function toPartition(number: number, entry: MbrEntry, sectorSize: number): Partition {
  return {
    number,
    offsetBytes: entry.startLba * sectorSize,
    sizeBytes: entry.sectors * sectorSize,
    type: entry.type.toString(16).padStart(2, '0'),
  };
}

/** Follows the chain of extended boot records; each holds one logical partition and a link to the next. */
async function readLogical(read: ReadAt, extendedLba: number): Promise<Partition[]> {
  const partitions: Partition[] = [];
  let ebrLba = extendedLba;
  while (partitions.length < MAX_LOGICAL_PARTITIONS) {
    const ebr = await read(ebrLba * 512, 512);
    if (ebr.readUInt16LE(510) !== MBR_SIGNATURE) break;
    const logical = mbrEntry(ebr, 0, ebrLba);
    if (logical.sectors > 0 && logical.type !== 0) partitions.push(toPartition(5 + partitions.length, logical, 512));
    const next = mbrEntry(ebr, 1, extendedLba);
    if (next.sectors === 0 || next.startLba <= ebrLba) break;
    ebrLba = next.startLba;
  }
  return partitions;
}

/** The primary GPT (512- or 4096-byte sectors), or the backup header in the last sector when the primary is damaged. */
async function readGpt(read: ReadAt, sizeBytes: number): Promise<Partition[] | null> {
  const candidates = [
    { headerOffset: 512, sectorSize: 512 },
    { headerOffset: 4096, sectorSize: 4096 },
    { headerOffset: sizeBytes - 512, sectorSize: 512 },
  ];
  for (const { headerOffset, sectorSize } of candidates) {
    if (headerOffset <= 0) continue;
    const header = await read(headerOffset, 92);
    if (header.toString('latin1', 0, 8) !== 'EFI PART') continue;
    const partitions = await readGptEntries(read, header, sectorSize);
    if (partitions) return partitions;
  }
  return null;
}

async function readGptEntries(read: ReadAt, header: Buffer, sectorSize: number): Promise<Partition[] | null> {
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128 || entrySize % 8 !== 0 || count * entrySize > MAX_GPT_ENTRIES_BYTES) return null;
  const entries = await read(entriesLba * sectorSize, count * entrySize);
  const partitions: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const entry = entries.subarray(i * entrySize, (i + 1) * entrySize);
    const typeGuid = entry.subarray(0, 16);
    if (typeGuid.every((b) => b === 0)) continue;
    const first = Number(entry.readBigUInt64LE(32));
    const last = Number(entry.readBigUInt64LE(40));
    if (last < first) continue;
    partitions.push({
      number: i + 1,
      offsetBytes: first * sectorSize,
      sizeBytes: (last - first + 1) * sectorSize,
      type: guidToString(typeGuid),
    });
  }
  return partitions;
}

/** GPT stores the first three GUID fields little-endian. */
export function guidToString(b: Buffer): string {
  const hex = (bytes: number[]) => bytes.map((x) => x.toString(16).padStart(2, '0')).join('');
  const at = (...idx: number[]) => idx.map((i) => b[i]!);
  return [hex(at(3, 2, 1, 0)), hex(at(5, 4)), hex(at(7, 6)), hex(at(8, 9)), hex(at(10, 11, 12, 13, 14, 15))]
    .join('-')
    .toUpperCase();
}
