/**
 * Normalizing the identity fields machines report (MACs, UUIDs), so two ways of writing one compare
 * equal. Pure: the agent (its drivers and discovery probes) and the functions (reconciliation) use it.
 */

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, `AABBCCDDEEFF` → `aa:bb:cc:dd:ee:ff`; undefined for anything else. */
export function parseMac(mac: string | undefined): string | undefined {
  const text = (mac ?? '').trim();
  if (!/^[0-9a-f:.\-\s]+$/i.test(text)) return undefined;
  const hex = text.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.length === 12 ? hex.match(/../g)!.join(':') : undefined;
}

/** A UUID lower case with dashes; undefined for an empty, all-zero or all-F one (firmware left it unset). */
export function normalizeUuid(uuid: string | undefined): string | undefined {
  const hex = (uuid ?? '').toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 32 || /^0+$/.test(hex) || /^f+$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
