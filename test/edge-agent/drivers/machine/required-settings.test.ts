/**
 * statemachines/kinds.ts says per kind what the API holds a machine to: `requiredSettings`, which it
 * refuses a machine without, and `holdsDisk`, which fixes the settings of a bound machine from attach
 * or from power on. This holds each driver to it: a machine lacking any one of its kind's required
 * settings fails as `invalid_settings` naming that setting, before the driver reaches for anything,
 * and each driver says it holds the disk exactly when the table does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrivers, type Drivers } from '../../../../edge-agent/registry';
import { holdsDisk, machineKinds, requiredSettings } from '../../../../statemachines/kinds';
import type { MachineRef } from '../../../../statemachines/tasks';

/** A value of the right shape for each required setting: the one left out is the only fault. */
const present: Record<string, unknown> = {
  host: '127.0.0.1',
  endpoint: 'https://127.0.0.1:9',
  amm: '127.0.0.1',
  slot: 2,
};

const cases = machineKinds.flatMap((kind) => Object.keys(requiredSettings[kind]).map((key) => [kind, key] as const));

describe('required settings of each machine kind', () => {
  let dir: string;
  let drivers: Drivers;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-required-settings-'));
    drivers = createDrivers({ stateDir: dir, storage: [] });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists a value here for every required setting of every kind', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const [, key] of cases) expect(present, key).toHaveProperty(key);
  });

  it.each(cases)('a %s machine without settings.%s fails as invalid_settings naming it', async (kind, key) => {
    const settings = Object.fromEntries(
      Object.keys(requiredSettings[kind])
        .filter((k) => k !== key)
        .map((k) => [k, present[k]]),
    );
    const machine: MachineRef = {
      id: `m-${kind}`,
      name: `m-${kind}`,
      kind,
      identity: {},
      settings: { ...settings, timeoutSeconds: 1, requestTimeoutSeconds: 1 },
      credentials: { user: 'u', password: 'p', community: 'c', username: 'u' } as never,
    };
    await expect(drivers.machine(kind).status(machine)).rejects.toMatchObject({
      code: 'invalid_settings',
      message: expect.stringContaining(`settings.${key}`),
    });
  });

  it.each(machineKinds)('a %s driver holds the disk itself exactly when kinds.ts says so', (kind) => {
    expect(drivers.machine(kind).holdsDisk).toBe(holdsDisk[kind]);
  });
});
