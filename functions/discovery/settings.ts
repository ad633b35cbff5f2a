/**
 * How discovery weighs evidence and decides, per site (`PUT /v1/sites/{id}/discovery` `settings`),
 * over these defaults. The README's Configuration section documents each; change both together.
 */
import { z } from 'zod';

export const DEFAULT_SETTINGS = {
  /** What a shared identifier adds to a score. */
  weights: { serial: 100, domain: 100, uuid: 80, bmcMac: 80, mac: 60, address: 30 },
  /** What the same identifier with another value (both sides have one) takes away. */
  contradictions: { serial: 100, uuid: 80 },
  /** An automatic match needs at least this score… */
  matchScore: 60,
  /** …and this lead over the runner-up. */
  lead: 30,
  /** A known machine missing from this many runs in a row becomes `missing`. */
  missingAfter: 3,
  /** Power drift (the machine's power is not what its clone's binding says): `report` it, or `correct` the machine. */
  power: 'report' as 'report' | 'correct',
};

export type DiscoverySettings = typeof DEFAULT_SETTINGS;

const weight = z.number().int().min(0).max(1000);

/** What a site may set; what it leaves out keeps the default. */
export const discoverySettings = z
  .object({
    weights: z
      .object({
        serial: weight,
        domain: weight,
        uuid: weight,
        bmcMac: weight,
        mac: weight,
        address: weight,
      })
      .partial()
      .strict(),
    contradictions: z.object({ serial: weight, uuid: weight }).partial().strict(),
    matchScore: z.number().int().min(1).max(10_000),
    lead: z.number().int().min(0).max(10_000),
    missingAfter: z.number().int().min(1).max(1000),
    power: z.enum(['report', 'correct']),
  })
  .partial()
  .strict();

export type SiteDiscoverySettings = z.infer<typeof discoverySettings>;

export function settingsOf(site: SiteDiscoverySettings | undefined): DiscoverySettings {
  const s = site ?? {};
  return {
    ...DEFAULT_SETTINGS,
    ...s,
    weights: { ...DEFAULT_SETTINGS.weights, ...s.weights },
    contradictions: { ...DEFAULT_SETTINGS.contradictions, ...s.contradictions },
  };
}
