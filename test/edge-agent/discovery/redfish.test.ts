/** Discovering the systems of a Redfish service: the test service with two systems, and refused credentials. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../support/machines-host';
import { type RedfishSim, startRedfishSim } from '../../support/machines-redfish';
import { type DiscoverHarness, discoverHarness } from './context';

const USER = 'secret://local/redfish/user';
const PASSWORD = 'secret://local/redfish/password';
const WRONG = 'secret://local/redfish/wrong';

describe('discovering redfish seeds', () => {
  let sim: RedfishSim;
  let h: DiscoverHarness;

  beforeAll(async () => {
    sim = await startRedfishSim({
      systems: [
        {
          id: 'blade-1',
          uuid: 'A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF',
          serial: 'RF-SN-1',
          macs: ['52-54-00-AB-CD-01', '52:54:00:ab:cd:02'],
          model: 'PowerEdge R650',
          manufacturer: 'Dell Inc.',
          cpus: 32,
          memoryGiB: 256,
        },
        // An older BMC: no inventory beyond identity, an unset (all-zero) UUID.
        { id: 'blade-2', uuid: '00000000-0000-0000-0000-000000000000', serial: 'RF-SN-2', macs: ['AABBCCDDEE02'] },
      ],
    });
    sim.systems.get('blade-1')!.powerState = 'On';
    sim.systems.get('blade-2')!.powerState = 'PoweringOn';
    h = await discoverHarness({ [USER]: sim.username, [PASSWORD]: sim.password, [WRONG]: 'nope-nope' });
  });
  afterAll(async () => {
    await sim?.stop();
    await h?.cleanup();
  });

  it('reports every system with its identity, inventory and power, MACs lower case with colons', async () => {
    const out = await h.run({
      seeds: [{ kind: 'redfish', address: sim.endpoint, credentials: { username: USER, password: PASSWORD } }],
    });
    expect(out.machines).toEqual([
      {
        seed: 0,
        kind: 'redfish',
        name: 'blade-1',
        identifiers: {
          uuid: 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff',
          serial: 'RF-SN-1',
          model: 'PowerEdge R650',
          macs: ['52:54:00:ab:cd:01', '52:54:00:ab:cd:02'],
        },
        facts: { cpus: 32, memoryMiB: 256 * 1024, power: 'on', manufacturer: 'Dell Inc.' },
        settings: { endpoint: sim.endpoint, systemId: 'blade-1' },
      },
      {
        seed: 0,
        kind: 'redfish',
        name: 'blade-2',
        identifiers: { serial: 'RF-SN-2', macs: ['aa:bb:cc:dd:ee:02'] },
        // Powering on already holds (or is about to hold) the disk.
        facts: { power: 'on' },
        settings: { endpoint: sim.endpoint, systemId: 'blade-2' },
      },
    ]);
    expect(out.seeds).toEqual([
      { seed: 0, kind: 'redfish', address: sim.endpoint, seconds: expect.any(Number), machines: 2, volumes: 0 },
    ]);
    console.log(`redfish seed seconds: ${out.seeds[0]!.seconds}`);
    // Basic auth only: the credentials never travel in a URL.
    expect(sim.requests.every((r) => !r.path.includes(sim.password))).toBe(true);
  });

  it('says the service refused the user, without the password, and that nothing answers at a closed port', async () => {
    const closed = `http://127.0.0.1:${await freeTcpPort()}`;
    const out = await h.run({
      seeds: [
        { kind: 'redfish', address: sim.endpoint, credentials: { user: USER, password: WRONG } },
        { kind: 'redfish', address: closed, credentials: { user: USER, password: PASSWORD }, timeoutSeconds: 2 },
      ],
    });
    expect(out.machines).toEqual([]);
    expect(out.seeds[0]!.error).toEqual({
      code: 'redfish_credentials_refused',
      message: `The Redfish service at ${sim.endpoint} refused the user ${sim.username} (HTTP 401): check the seed's credentials and that the account may read the systems.`,
    });
    expect(out.seeds[1]!.error).toMatchObject({
      code: 'redfish_unreachable',
      message: expect.stringContaining(`${closed}/redfish/v1/ did not answer (connect ECONNREFUSED`),
    });
    expect(JSON.stringify(out)).not.toContain('nope-nope');
  });
});
