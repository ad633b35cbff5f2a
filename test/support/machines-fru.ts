/**
 * IPMI FRU data (Platform Management FRU Information Storage Definition v1.0) with a board info
 * area, so a simulated BMC reports the board serial a test chose.
 */
export interface BoardInfo {
  manufacturer: string;
  product: string;
  serial: string;
  partNumber: string;
}

/** Bytes of a FRU image: common header, then the board area (mfg date unspecified, English). */
export function buildFru(board: BoardInfo): number[] {
  const field = (text: string) => {
    const bytes = [...Buffer.from(text, 'latin1')];
    if (bytes.length > 63) throw new Error(`FRU field "${text}" is longer than 63 bytes`);
    return [0xc0 | bytes.length, ...bytes];
  };
  const area = [0x01, 0x00, 0x19, 0x00, 0x00, 0x00];
  area.push(...field(board.manufacturer), ...field(board.product), ...field(board.serial), ...field(board.partNumber));
  area.push(0xc0, 0xc1); // empty FRU file id, end of fields
  while ((area.length + 1) % 8 !== 0) area.push(0x00);
  area[1] = (area.length + 1) / 8;
  area.push(checksum(area));
  const header = [0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
  header.push(checksum(header));
  return [...header, ...area];
}

function checksum(bytes: number[]): number {
  return (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
}
