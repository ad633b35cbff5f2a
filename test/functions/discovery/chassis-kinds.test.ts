/** Discovered bladecenter blades and amt machines: the seed that reports them, their address evidence and credentials. */
import { describe, expect, it } from 'vitest';
import { discoveredMachine, type RunContext } from '../../../functions/discovery/apply';
import { addressOf } from '../../../functions/discovery/evidence';
import { normalizeAddress, seedKey, seedKeyOfRecord } from '../../../functions/discovery/seeds';
import type { MachineObservation } from '../../../statemachines/discovery';

const blade: MachineObservation = {
  seed: 0,
  kind: 'bladecenter',
  name: 'slot-3',
  identifiers: { serial: '99B0003', model: '8853AC1', macs: ['00:1A:64:76:03:10'], bmcAddress: '10.0.0.9:161#3' },
  facts: { power: 'off' },
  settings: { amm: '10.0.0.9', snmpPort: 161, slot: 3 },
};
const nuc: MachineObservation = {
  seed: 1,
  kind: 'amt',
  identifiers: { uuid: '8a3e0c4b-6f1d-4e2a-9b7c-1d2e3f405162', macs: ['00-1b-21-3c-4d-5e'] },
  facts: {},
  settings: { host: '10.0.0.7', port: 16992 },
};
const run: RunContext = {
  site: 'local',
  discovery: 'dc-1',
  now: '2026-12-03T00:00:00.000Z',
  observations: [blade, nuc],
  seeds: [
    {
      kind: 'bladecenter',
      address: '10.0.0.9',
      credentials: { community: 'secret://local/discovery/x/community' },
    },
    {
      kind: 'amt',
      address: '10.0.0.7',
      credentials: { user: 'secret://local/discovery/y/user', password: 'secret://local/discovery/y/password' },
    },
  ],
  machines: [],
  clones: new Map(),
};

describe('bladecenter and amt machines found by discovery', () => {
  it('take the default SNMP and WS-Man ports in their seed keys, as the records they become name them', () => {
    expect(normalizeAddress('bladecenter', '10.0.0.9')).toBe('10.0.0.9:161');
    expect(normalizeAddress('amt', '10.0.0.7')).toBe('10.0.0.7:16992');
    const bladeRecord = discoveredMachine(run, blade, 'bladecenter-99B0003');
    const nucRecord = discoveredMachine(run, nuc, 'amt-8a3e0c4b');
    expect(seedKeyOfRecord({ ...bladeRecord, inventory: undefined })).toBe(seedKey('bladecenter', '10.0.0.9'));
    expect(seedKeyOfRecord({ ...nucRecord, inventory: undefined })).toBe(seedKey('amt', '10.0.0.7:16992'));
  });

  it('tell blades of one chassis apart by slot in their address evidence', () => {
    expect(addressOf('bladecenter', blade.settings)).toBe('10.0.0.9:161#3');
    expect(addressOf('bladecenter', { ...blade.settings, slot: 4 })).toBe('10.0.0.9:161#4');
    expect(addressOf('amt', nuc.settings)).toBe('10.0.0.7:16992');
  });

  it("keep the seed's credentials by reference, under the names their drivers read, and MACs normalized", () => {
    const b = discoveredMachine(run, blade, 'b');
    const n = discoveredMachine(run, nuc, 'n');
    expect(b.credentials).toEqual({ community: 'secret://local/discovery/x/community' });
    expect(n.credentials).toEqual({
      user: 'secret://local/discovery/y/user',
      password: 'secret://local/discovery/y/password',
    });
    expect(b.identity.macs).toEqual(['00:1a:64:76:03:10']);
    expect(n.identity.macs).toEqual(['00:1b:21:3c:4d:5e']);
  });

  it("keep an SNMPv3 seed's privacy password by reference beside its user and password", () => {
    const v3 = {
      kind: 'bladecenter' as const,
      address: '10.0.0.9',
      credentials: {
        user: 'secret://local/discovery/z/user',
        password: 'secret://local/discovery/z/password',
        privPassword: 'secret://local/discovery/z/privPassword',
      },
    };
    const b = discoveredMachine({ ...run, seeds: [v3, run.seeds[1]!] }, blade, 'b3');
    expect(b.credentials).toEqual(v3.credentials);
  });
});
