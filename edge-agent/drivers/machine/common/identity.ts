/** Normalizing the identity fields machines report (MACs, UUIDs), so two ways of writing one compare equal. */

/**
 * `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` and `AABBCCDDEEFF` all become `aa:bb:cc:dd:ee:ff`; anything
 * that is not 12 hex digits is returned trimmed and lower-cased, so it never equals a real MAC.
 */
export function normalizeMac(mac: string): string {
  const hex = mac
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || !/^[0-9a-f:.\-\s]+$/i.test(mac.trim())) return mac.trim().toLowerCase();
  return hex.match(/../g)!.join(':');
}

/** A GUID as lower case with dashes, or undefined for an empty or all-zero one (an unset GUID). */
export function normalizeUuid(uuid: string | undefined): string | undefined {
  const hex = (uuid ?? '').toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 32 || /^0+$/.test(hex) || /^f+$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** True when the two share a MAC address, however each was written. */
export function sharesMac(a: readonly string[] = [], b: readonly string[] = []): boolean {
  const mine = new Set(a.map(normalizeMac));
  return b.some((m) => mine.has(normalizeMac(m)));
}
