/**
 * The NTFS boot sector: enough of it to recognise the filesystem (the OEM id `NTFS    ` at byte 3, as
 * blkid does), tell its size, and give its volume serial number, which blkid reports as its UUID.
 */
import type { ReadAt } from './partitions';

export interface NtfsBootSector {
  /** Bytes the volume spans: its sectors plus the backup boot sector that follows them. */
  sizeBytes: number;
  /** The volume serial number, 16 hex digits in upper case (blkid's UUID of an NTFS volume). */
  uuid: string;
}

const OEM_ID = 'NTFS    ';
const BOOT_SIGNATURE = 0xaa55;

export async function probeNtfs(read: ReadAt, offsetBytes: number): Promise<NtfsBootSector | null> {
  return parseNtfsBootSector(await read(offsetBytes, 512));
}

/** Null when `sector` is not an NTFS boot sector. */
export function parseNtfsBootSector(sector: Buffer): NtfsBootSector | null {
  if (sector.length < 512 || sector.toString('latin1', 3, 11) !== OEM_ID) return null;
  if (sector.readUInt16LE(510) !== BOOT_SIGNATURE) return null;
  const bytesPerSector = sector.readUInt16LE(11);
  if (![256, 512, 1024, 2048, 4096].includes(bytesPerSector)) return null;
  const sectors = Number(sector.readBigUInt64LE(40));
  if (sectors === 0 || !Number.isSafeInteger(sectors * bytesPerSector)) return null;
  const serial = sector.readBigUInt64LE(72).toString(16).toUpperCase().padStart(16, '0');
  return { sizeBytes: (sectors + 1) * bytesPerSector, uuid: serial };
}
