/** Reconciliation: how observations are matched, made new, queued as conflicts or counted missing. */
import { describe, expect, it } from 'vitest';
import { isEvidenceMac, normalizeMac, normalizeUuid } from '../../../functions/discovery/evidence';
import { reconcile } from '../../../functions/discovery/reconcile';
import { seedKey } from '../../../functions/discovery/seeds';
import { DEFAULT_SETTINGS, settingsOf } from '../../../functions/discovery/settings';
import type { Machine } from '../../../functions/store/records';
import type { MachineObservation } from '../../../statemachines/discovery';

const now = '2026-12-02T10:00:00.000Z';

function machine(id: string, extra: Partial<Machine> = {}): Machine {
  return {
    id,
    name: `n-${id}`,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    site: 'local',
    kind: 'ipmi',
    arch: 'x86_64',
    cpus: 2,
    memoryMiB: 2048,
    identity: {},
    settings: {},
    ...extra,
  };
}

function blade(seed: number, port: number, serial: string, extra: Partial<MachineObservation['identifiers']> = {}) {
  return {
    seed,
    kind: 'ipmi',
    identifiers: { serial, model: 'LS21', macs: [], bmcAddress: `127.0.0.1:${port}`, ...extra },
    facts: { power: 'off' },
    settings: { host: '127.0.0.1', port },
  } satisfies MachineObservation;
}

const run = (
  observations: MachineObservation[],
  machines: Machine[],
  extra: Partial<Parameters<typeof reconcile>[0]> = {},
) =>
  reconcile({
    observations,
    answered: new Map(observations.map((o) => [o.seed, seedKey('ipmi', `127.0.0.1:${o.settings.port}`)])),
    machines,
    bindings: new Map(),
    ignored: new Set(),
    settings: DEFAULT_SETTINGS,
    ...extra,
  });

describe('identifiers', () => {
  it('write one MAC one way, whatever the source wrote', () => {
    expect(normalizeMac('00-1B-21-AA-BB-CC')).toBe('00:1b:21:aa:bb:cc');
    expect(normalizeMac('001b.21aa.bbcc')).toBe('00:1b:21:aa:bb:cc');
    expect(normalizeMac('not a mac')).toBeUndefined();
  });

  it('take no locally administered, multicast or zero MAC, and no unset UUID, as evidence', () => {
    expect(isEvidenceMac('52:54:00:12:34:56')).toBe(false);
    expect(isEvidenceMac('01:00:5e:00:00:01')).toBe(false);
    expect(isEvidenceMac('00:00:00:00:00:00')).toBe(false);
    expect(isEvidenceMac('00:1b:21:aa:bb:cc')).toBe(true);
    expect(normalizeUuid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(normalizeUuid('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF')).toBeUndefined();
  });
});

describe('reconciliation', () => {
  it('matches a blade whose BMC moved by its serial, with the address changed', () => {
    const known = machine('mc-a', { identity: { serial: 'SN-A' }, settings: { host: '127.0.0.1', port: 9001 } });
    const r = run([blade(0, 9002, 'SN-A')], [known]);
    expect(r.matched).toEqual([expect.objectContaining({ machine: 'mc-a', observation: 0 })]);
    expect(r.changed[0]!.fields).toContainEqual({ field: 'settings.port', from: 9001, to: 9002 });
    expect(r.new).toEqual([]);
    expect(r.conflicts).toEqual([]);
  });

  it('matches a MAC written upper case with dashes to the record written lower case with colons', () => {
    const known = machine('mc-r', { kind: 'redfish', identity: { macs: ['00:1b:21:aa:bb:cc'] } });
    const o: MachineObservation = {
      seed: 0,
      kind: 'redfish',
      identifiers: { macs: ['00-1B-21-AA-BB-CC'] },
      facts: {},
      settings: { endpoint: 'http://127.0.0.1:1', systemId: 's1' },
    };
    expect(run([o], [known]).matched).toEqual([expect.objectContaining({ machine: 'mc-r' })]);
  });

  it('makes what matches nothing new, and never matches on a VM MAC alone', () => {
    const known = machine('mc-v', { kind: 'libvirt', identity: { macs: ['52:54:00:00:00:01'] } });
    const o: MachineObservation = {
      seed: 0,
      kind: 'libvirt',
      identifiers: { macs: ['52:54:00:00:00:01'] },
      facts: {},
      settings: { uri: 'test:///a', domain: 'd' },
    };
    const r = run([o], [known]);
    expect(r.new).toEqual([{ observation: 0 }]);
    expect(r.matched).toEqual([]);
  });

  it('queues two machines with one UUID as a duplicate, never merging them', () => {
    const uuid = '6c1f7d0e-2b3a-4c5d-9e8f-112233445566';
    const vm = (seed: number, uri: string): MachineObservation => ({
      seed,
      kind: 'libvirt',
      name: 'web',
      identifiers: { uuid, domainUuid: uuid, hypervisor: uri, macs: [] },
      facts: {},
      settings: { uri, domain: 'web' },
    });
    const r = run([vm(0, 'test:///a'), vm(1, 'test:///b')], []);
    expect(r.new).toEqual([]);
    expect(r.conflicts.map((c) => c.reason)).toEqual(['duplicate_identifier', 'duplicate_identifier']);
    expect(r.conflicts[0]!.duplicates).toEqual([{ type: 'uuid', value: uuid, observations: [1] }]);
  });

  it('counts the same address with another serial against a match: a contradiction', () => {
    const known = machine('mc-a', { identity: { serial: 'SN-A' }, settings: { host: '127.0.0.1', port: 9001 } });
    const r = run([blade(0, 9001, 'SN-OTHER')], [known]);
    expect(r.matched).toEqual([]);
    expect(r.conflicts).toEqual([expect.objectContaining({ reason: 'contradiction' })]);
    expect(r.conflicts[0]!.candidates[0]!.evidence).toContainEqual(
      expect.objectContaining({ type: 'serial', weight: -100, theirs: 'sn-a|' }),
    );
  });

  it('queues an observation without a clear lead as ambiguous', () => {
    const a = machine('mc-a', { kind: 'redfish', identity: { macs: ['00:1b:21:00:00:01'] } });
    const b = machine('mc-b', { kind: 'redfish', identity: { macs: ['00:1b:21:00:00:02'] } });
    const o: MachineObservation = {
      seed: 0,
      kind: 'redfish',
      identifiers: { macs: ['00:1b:21:00:00:01', '00:1b:21:00:00:02'] },
      facts: {},
      settings: {},
    };
    const r = run([o], [a, b]);
    expect(r.conflicts).toEqual([expect.objectContaining({ reason: 'ambiguous' })]);
    expect(r.conflicts[0]!.candidates.map((c) => c.score)).toEqual([60, 60]);
  });

  it('counts a miss for a record its seed no longer reports, and calls it missing after enough of them', () => {
    const gone = machine('mc-g', { settings: { host: '127.0.0.1', port: 9009 }, presence: { misses: 2 } });
    const answered = new Map([[0, seedKey('ipmi', '127.0.0.1:9009')]]);
    const r = run([], [gone], { answered });
    expect(r.misses).toEqual([{ machine: 'mc-g', misses: 3 }]);
    expect(r.missing).toEqual([expect.objectContaining({ machine: 'mc-g', state: 'missing' })]);
    expect(r.conflicts).toEqual([expect.objectContaining({ reason: 'vanished', key: 'vanished|mc-g' })]);
    // A seed that did not answer expects nothing.
    expect(run([], [gone], { answered: new Map() }).misses).toEqual([]);
  });

  it('reports power that differs from what the clone binding says, with both values', () => {
    const known = machine('mc-a', { identity: { serial: 'SN-A' }, clone: 'cl-1' });
    const r = run([{ ...blade(0, 9001, 'SN-A'), facts: { power: 'off' } }], [known], {
      bindings: new Map([['cl-1', 'active']]),
    });
    expect(r.drift).toEqual([expect.objectContaining({ machine: 'mc-a', expected: 'on', observed: 'off' })]);
  });

  it('does not raise an ignored conflict again', () => {
    const known = machine('mc-a', { identity: { serial: 'SN-A' }, settings: { host: '127.0.0.1', port: 9001 } });
    const first = run([blade(0, 9001, 'SN-OTHER')], [known]);
    const again = run([blade(0, 9001, 'SN-OTHER')], [known], { ignored: new Set([first.conflicts[0]!.key]) });
    expect(again.conflicts).toEqual([]);
    expect(again.new).toEqual([]);
  });

  it('takes its weights and thresholds from the site', () => {
    const s = settingsOf({ weights: { mac: 10 } });
    expect(s.weights).toEqual({ ...DEFAULT_SETTINGS.weights, mac: 10 });
    const known = machine('mc-r', { kind: 'redfish', identity: { macs: ['00:1b:21:aa:bb:cc'] } });
    const o: MachineObservation = {
      seed: 0,
      kind: 'redfish',
      identifiers: { macs: ['00:1b:21:aa:bb:cc'] },
      facts: {},
      settings: {},
    };
    expect(run([o], [known], { settings: s }).conflicts).toEqual([expect.objectContaining({ reason: 'ambiguous' })]);
  });
});
