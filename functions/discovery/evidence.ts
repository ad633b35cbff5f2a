/**
 * Typed identifiers, and how much each says about who a machine is. An observation (what a seed
 * reported) and a record (what the control plane keeps) are both reduced to the same typed, normalized
 * identifiers; scoring compares those, never raw strings.
 *
 * Glossary
 * - identifier: `{type, value}`; `serial` carries the model beside it, `domain` the hypervisor.
 * - evidence: an identifier two sides share (for a score), or a contradiction: the same type with
 *   another value where both sides have one (against it).
 * - never evidence: a locally administered or multicast MAC, an all-zero or all-F UUID, and any
 *   identifier seen on two live machines of one run (a duplicate, itself a conflict).
 */
import type { MachineObservation, ObservedIdentifiers } from '../../statemachines/discovery';
import { parseMac as normalizeMac, normalizeUuid } from '../../statemachines/identity';
import type { Machine } from '../store/records';
import type { DiscoverySettings } from './settings';

export type IdentifierType = 'serial' | 'domain' | 'uuid' | 'bmcMac' | 'mac' | 'address';

export interface Identifier {
  type: IdentifierType;
  value: string;
}

export { normalizeUuid, parseMac as normalizeMac } from '../../statemachines/identity';

/** A MAC that names one NIC in the world: not multicast, not locally administered (VMs, bonds), not all zero. */
export function isEvidenceMac(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 0x03) === 0 && mac !== '00:00:00:00:00:00';
}

const text = (s: string | undefined) => {
  const t = (s ?? '').trim();
  return t && !/^(none|n\/a|unknown|to be filled by o\.e\.m\.|0+)$/i.test(t) ? t : undefined;
};

/** Where a machine of `kind` answers, from its driver settings: the `address` identifier. */
export function addressOf(kind: string, settings: Record<string, unknown>): string | undefined {
  const s = (k: string) =>
    typeof settings[k] === 'string' || typeof settings[k] === 'number' ? String(settings[k]) : '';
  if (kind === 'ipmi' && s('host')) return `${s('host').toLowerCase()}:${s('port') || '623'}`;
  if (kind === 'redfish' && s('endpoint')) return `${originOf(s('endpoint'))}#${s('systemId')}`;
  if (kind === 'libvirt' && s('uri')) return `${s('uri')}#${s('domain')}`;
  if (kind === 'vsphere' && s('endpoint')) return `${originOf(s('endpoint'))}#${s('vm')}`;
  if (kind === 'amt' && s('host')) return `${s('host').toLowerCase()}:${s('port') || '16992'}`;
  if (kind === 'bladecenter' && s('amm')) return `${s('amm').toLowerCase()}:${s('snmpPort') || '161'}#${s('slot')}`;
  return undefined;
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint.toLowerCase();
  }
}

/** The identifiers as typed values, normalized; `serial` is `serial|model` (model may be empty). */
export function identifiersOf(
  ids: Partial<ObservedIdentifiers>,
  kind: string,
  settings: Record<string, unknown>,
): Identifier[] {
  const out: Identifier[] = [];
  const serial = text(ids.serial);
  if (serial) out.push({ type: 'serial', value: `${serial.toLowerCase()}|${(text(ids.model) ?? '').toLowerCase()}` });
  const domainUuid = normalizeUuid(ids.domainUuid);
  if (domainUuid && ids.hypervisor) out.push({ type: 'domain', value: `${ids.hypervisor}|${domainUuid}` });
  const uuid = normalizeUuid(ids.uuid);
  if (uuid) out.push({ type: 'uuid', value: uuid });
  const bmcMac = normalizeMac(ids.bmcMac);
  if (bmcMac && isEvidenceMac(bmcMac)) out.push({ type: 'bmcMac', value: bmcMac });
  for (const mac of new Set((ids.macs ?? []).flatMap((m) => normalizeMac(m) ?? [])))
    if (isEvidenceMac(mac)) out.push({ type: 'mac', value: mac });
  const address = addressOf(kind, settings);
  if (address) out.push({ type: 'address', value: address });
  return out;
}

export function observationIdentifiers(o: MachineObservation): Identifier[] {
  return identifiersOf(o.identifiers, o.kind, o.settings);
}

/** A record's identifiers: its identity, and what the last discovery saw of it (model, BMC, hypervisor). */
export function recordIdentifiers(m: Machine): Identifier[] {
  const seen: Partial<ObservedIdentifiers> = m.inventory?.identifiers ?? {};
  return identifiersOf(
    {
      ...seen,
      serial: m.identity.serial ?? seen.serial,
      uuid: m.identity.uuid ?? seen.uuid,
      macs: [...(m.identity.macs ?? []), ...(seen.macs ?? [])],
    },
    m.kind,
    m.settings,
  );
}

export const keyOf = (i: Identifier) => `${i.type}=${i.value}`;

export interface Evidence {
  type: IdentifierType;
  value: string;
  /** Positive: shared. Negative: a contradiction (`theirs` is the record's value). */
  weight: number;
  theirs?: string;
}

/** What one observation's identifiers say about one record's. */
export function score(
  mine: readonly Identifier[],
  theirs: readonly Identifier[],
  settings: DiscoverySettings,
): { score: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  const byType = (list: readonly Identifier[], t: IdentifierType) => list.filter((i) => i.type === t);
  for (const type of ['serial', 'domain', 'uuid', 'bmcMac', 'mac', 'address'] as const) {
    const a = byType(mine, type);
    const b = byType(theirs, type);
    if (!a.length || !b.length) continue;
    const shared = a.find((x) => b.some((y) => same(type, x.value, y.value)));
    const weight = settings.weights[type];
    if (shared) evidence.push({ type, value: shared.value, weight });
    else if (type in settings.contradictions) {
      const against = settings.contradictions[type as keyof DiscoverySettings['contradictions']];
      evidence.push({ type, value: a[0]!.value, weight: -against, theirs: b[0]!.value });
    }
  }
  return { score: evidence.reduce((sum, e) => sum + e.weight, 0), evidence };
}

/** A serial matches when the serials are equal and the models are, or one side does not know its model. */
function same(type: IdentifierType, a: string, b: string): boolean {
  if (type !== 'serial') return a === b;
  const [sa, ma] = a.split('|');
  const [sb, mb] = b.split('|');
  return sa === sb && (!ma || !mb || ma === mb);
}
