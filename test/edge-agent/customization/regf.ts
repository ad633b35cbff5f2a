/**
 * A minimal valid Windows registry hive (the regf format), built here because hivex cannot create one
 * and no Debian package ships one: a 4 KiB base block, then one 4 KiB hbin holding the root key (an nk
 * cell), the security cell every key points at (sk; hivex copies it to the keys it adds), and the rest
 * of the bin as one free cell. Layout as documented in the libyal regf notes and hivex's lib/hivex-internal.h.
 */
const BLOCK = 4096;
const ROOT = 0x20;

export function minimalHive(rootName = 'ROOT'): Buffer {
  const hive = Buffer.alloc(2 * BLOCK);
  const base = hive.subarray(0, BLOCK);
  base.write('regf', 0, 'latin1');
  base.writeUInt32LE(1, 4); // primary sequence number
  base.writeUInt32LE(1, 8); // secondary sequence number: equal, so the hive was written out cleanly
  base.writeUInt32LE(1, 20); // major version
  base.writeUInt32LE(3, 24); // minor version
  base.writeUInt32LE(0, 28); // primary file
  base.writeUInt32LE(1, 32); // direct memory load
  base.writeUInt32LE(ROOT, 36); // root cell, relative to the first hbin
  base.writeUInt32LE(BLOCK, 40); // bytes of hbins
  base.writeUInt32LE(1, 44); // clustering factor
  let sum = 0;
  for (let at = 0; at < 508; at += 4) sum ^= base.readUInt32LE(at);
  sum >>>= 0;
  base.writeUInt32LE(sum === 0xffffffff ? 0xfffffffe : sum === 0 ? 1 : sum, 508);

  const bin = hive.subarray(BLOCK);
  bin.write('hbin', 0, 'latin1');
  bin.writeUInt32LE(0, 4); // offset from the first hbin
  bin.writeUInt32LE(BLOCK, 8); // size of this hbin

  const name = Buffer.from(rootName, 'latin1');
  const nkSize = align8(4 + 76 + name.length);
  if (nkSize > 512) throw new Error(`root key name ${rootName} is too long for this minimal hive`);
  const SK = ROOT + nkSize;
  const nk = bin.subarray(ROOT, ROOT + nkSize);
  nk.writeInt32LE(-nkSize, 0); // negative: allocated
  nk.write('nk', 4, 'latin1');
  nk.writeUInt16LE(0x2c, 6); // hive entry (root), no delete, compressed (ASCII) name
  nk.writeUInt32LE(0xffffffff, 20); // parent: none
  nk.writeUInt32LE(0, 24); // subkeys
  nk.writeUInt32LE(0, 28); // volatile subkeys
  nk.writeUInt32LE(0xffffffff, 32); // subkey list
  nk.writeUInt32LE(0xffffffff, 36); // volatile subkey list
  nk.writeUInt32LE(0, 40); // values
  nk.writeUInt32LE(0xffffffff, 44); // value list
  nk.writeUInt32LE(SK, 48); // security cell
  nk.writeUInt32LE(0xffffffff, 52); // class name
  nk.writeUInt16LE(name.length, 76);
  nk.writeUInt16LE(0, 78);
  name.copy(nk, 80);

  // A self-relative security descriptor with no owner, group or ACLs.
  const descriptor = Buffer.from([1, 0, 0x00, 0x80, ...new Array(16).fill(0)]);
  const skSize = align8(4 + 20 + descriptor.length);
  const sk = bin.subarray(SK, SK + skSize);
  sk.writeInt32LE(-skSize, 0);
  sk.write('sk', 4, 'latin1');
  sk.writeUInt32LE(SK, 8); // previous sk: itself, the only one
  sk.writeUInt32LE(SK, 12); // next sk: itself
  sk.writeUInt32LE(1, 16); // keys that use it
  sk.writeUInt32LE(descriptor.length, 20);
  descriptor.copy(sk, 24);

  const free = SK + skSize;
  bin.writeInt32LE(BLOCK - free, free); // positive: the rest of the bin is one free cell
  return hive;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
