/** How an error names a field of the input. */

/**
 * The dotted path of a field, `body.identity.macs.0`; a member whose name is not a plain word is
 * written as a JSON string in brackets, `body.settings["a.b"]`, so that every path reads one way.
 */
export function fieldPath(where: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (at, k) =>
      typeof k === 'number' || /^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(k))
        ? `${at}.${String(k)}`
        : `${at}[${JSON.stringify(String(k))}]`,
    where,
  );
}
