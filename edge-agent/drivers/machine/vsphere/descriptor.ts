/**
 * How ESX reads a raw clone: a VMDK descriptor of type monolithicFlat whose one extent is the image.
 * Beside a raw image `clone.img` the driver writes `clone.img.vmdk` (the descriptor) and links
 * `clone.img-flat.vmdk` to the image (a hard link: the same bytes, no copy), the names VMware's own
 * tools give a flat disk; the VM is given the descriptor. Detach removes both names; the clone stays.
 * An image that is already a `.vmdk` is attached as it is.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FileDisk } from '../../disk';

export interface VmdkFiles {
  /** On the agent's host. */
  descriptor: string;
  extent: string;
  /** The descriptor's datastore path, from the disk's. */
  datastorePath: string;
  capacityInKB: number;
}

export function vmdkFiles(disk: FileDisk & { datastore: string }, sizeBytes: number): VmdkFiles | undefined {
  if (disk.path.endsWith('.vmdk')) return undefined;
  return {
    descriptor: `${disk.path}.vmdk`,
    extent: `${disk.path}-flat.vmdk`,
    datastorePath: `${disk.datastore}.vmdk`,
    capacityInKB: Math.floor(sizeBytes / 1024),
  };
}

/** Writes the descriptor and the extent's link; both are made again if they exist, so a retry is the same. */
export async function writeVmdk(disk: FileDisk, files: VmdkFiles, sizeBytes: number): Promise<void> {
  await fs.rm(files.extent, { force: true });
  await fs.link(disk.path, files.extent);
  const sectors = Math.floor(sizeBytes / 512);
  const cylinders = Math.max(1, Math.min(65535, Math.floor(sectors / (255 * 63))));
  const text = [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="monolithicFlat"',
    '',
    '# Extent description',
    `RW ${sectors} FLAT "${path.basename(files.extent)}" 0`,
    '',
    '# The Disk Data Base',
    '#DDB',
    'ddb.adapterType = "lsilogic"',
    `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "255"',
    'ddb.geometry.sectors = "63"',
    'ddb.virtualHWVersion = "13"',
    '',
  ].join('\n');
  await fs.writeFile(files.descriptor, text);
}

export async function removeVmdk(files: VmdkFiles): Promise<void> {
  await fs.rm(files.descriptor, { force: true });
  await fs.rm(files.extent, { force: true });
}
