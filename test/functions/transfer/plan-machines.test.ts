/**
 * What an import's plan does with the machines a bundle lists, against the site's real records: a
 * machine the site can drive is created, one it cannot (an unknown kind, or without the settings its
 * kind's driver needs, as a bundle written by hand or by an older release may be) is skipped with the
 * reason, since a machine attached before its driver fails could no longer be detached.
 */
import { describe, expect, it } from 'vitest';
import { planImport } from '../../../functions/transfer/plan';
import type { ImportRecord } from '../../../functions/transfer/records';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Manifest } from '../../../statemachines/bundle';
import { unique } from '../../support/fixtures';
import { stackDeps } from '../../support/store';

const PATH = 'metadata/machines.json';

const manifest: Manifest = {
  format: BUNDLE_FORMAT,
  version: BUNDLE_VERSION,
  export: 'ex-test',
  exportedAt: '2026-01-01T00:00:00.000Z',
  site: { name: 'elsewhere' },
  algorithm: 'sha256',
  partBytes: 4 * 1024 * 1024,
  credentials: 'not in this bundle',
  objects: [
    { kind: 'metadata', id: 'machines', path: PATH, of: 'machines', sizeBytes: 1, sha256: '0'.repeat(64), parts: [] },
  ],
};

const record = (): ImportRecord => ({
  id: unique('im'),
  name: unique('im'),
  rev: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  status: 'running',
  operation: unique('op'),
  site: 'local',
  bundle: { s3: 'ex-test' },
  dryRun: true,
  onConflict: 'fail',
  rebinding: { repositories: {}, machines: {}, sites: {} },
});

describe("an import's machines", () => {
  it('are created when the site can drive them, and skipped, saying what is missing, when it cannot', async () => {
    const names = { ipmi: unique('bmc'), blade: unique('blade'), noSlot: unique('blade'), odd: unique('odd') };
    const machines = [
      { name: names.ipmi, kind: 'ipmi', settings: { host: '10.0.0.5' }, credentialsNeeded: ['password'] },
      { name: names.blade, kind: 'bladecenter', settings: { amm: '10.0.0.9', slot: 3 } },
      { name: names.noSlot, kind: 'bladecenter', settings: { amm: '' } },
      { name: names.odd, kind: 'pdu' },
    ];
    const plan = await planImport(stackDeps(), record(), manifest, { [PATH]: JSON.stringify({ machines }) });

    const byName = Object.fromEntries(plan.machines.map((m) => [m.name, m]));
    expect(byName[names.ipmi]).toMatchObject({ action: 'create', credentialsNeeded: ['password'] });
    expect(byName[names.blade]).toMatchObject({ action: 'create' });
    expect(byName[names.noSlot]).toEqual({
      name: names.noSlot,
      credentialsNeeded: [],
      action: 'skip',
      reason:
        "the bundle lacks settings.amm (required for a machine of kind bladecenter: the chassis AMM's address) and " +
        "settings.slot (required for a machine of kind bladecenter: the blade's slot in the chassis, 1-14); register the machine by hand",
    });
    expect(byName[names.odd]).toMatchObject({ action: 'skip', reason: 'kind pdu is unknown here' });
  });
});
