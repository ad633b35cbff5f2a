/** Normalizing the identity fields machines report (MACs, UUIDs), so two ways of writing one compare equal. */

import { parseMac } from '../../../../statemachines/identity';

export { normalizeUuid } from '../../../../statemachines/identity';

/**
 * `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` and `AABBCCDDEEFF` all become `aa:bb:cc:dd:ee:ff`; anything
 * that is not 12 hex digits is returned trimmed and lower-cased, so it never equals a real MAC.
 */
export function normalizeMac(mac: string): string {
  return parseMac(mac) ?? mac.trim().toLowerCase();
}

/** True when the two share a MAC address, however each was written. */
export function sharesMac(a: readonly string[] = [], b: readonly string[] = []): boolean {
  const mine = new Set(a.map(normalizeMac));
  return b.some((m) => mine.has(normalizeMac(m)));
}
