/** Server-made ids: a short kind prefix and 12 random base-32 characters, e.g. `cl-7k2m9q4xw3ab`. */
export const prefixes = {
  site: 'st',
  repository: 'rp',
  machine: 'mc',
  master: 'ms',
  clone: 'cl',
  operation: 'op',
  token: 'tk',
  audit: 'au',
  upload: 'up',
  deployment: 'dp',
  discovery: 'ds',
  conflict: 'cf',
  export: 'ex',
  import: 'im',
} as const;

export type Kind = keyof typeof prefixes;

const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';

export function randomString(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function newId(kind: Kind): string {
  return `${prefixes[kind]}-${randomString(12)}`;
}

export function looksLikeId(kind: Kind, ref: string): boolean {
  return ref.startsWith(`${prefixes[kind]}-`) && /^[a-z]{2}-[a-z0-9]{12}$/.test(ref);
}
