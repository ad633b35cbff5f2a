/**
 * A `bladecenter` seed: one chassis' AMM (`host[:port]`, UDP 161 by default), asked over SNMP with
 * the machine driver's client. The seed's `community` (SNMPv1), or its `user` and `password` (SNMPv3
 * with SHA authentication) and `privPassword` (privacy with AES: authPriv), stay in the SNMP session,
 * in memory.
 *
 * Reads bladeExists for every slot, then for each blade its power state and VPD (serial, machine
 * type, the MACs of its NICs, normalized): one machine per blade, addressed as chassis + slot.
 */
import type { MachineObservation } from '../../statemachines/discovery';
import { vpdIdentity } from '../drivers/machine/bladecenter/blade';
import { BLADE_OIDS, MAX_SLOTS, oidOf } from '../drivers/machine/bladecenter/mib';
import { AmmSnmp, type SnmpTarget } from '../drivers/machine/bladecenter/snmp';
import { hostPort, type Observed, type SeedAsk } from './seed';

const REQUEST_SECONDS = 5;

export async function askBladeCenter(ask: SeedAsk): Promise<Observed> {
  const { host, port, display } = hostPort('bladecenter', ask.seed.address, 161);
  const base = { host, port, timeoutMs: (ask.seed.timeoutSeconds ?? REQUEST_SECONDS) * 1000, retries: 1 };
  const target: SnmpTarget = ask.seed.credentials?.['community']
    ? { ...base, version: '1', community: await ask.secret(['community']) }
    : {
        ...base,
        version: '3',
        user: {
          name: await ask.secret(['user', 'username']),
          authKey: await ask.secret(['password']),
          authProtocol: 'sha',
          privProtocol: 'aes',
          ...(ask.seed.credentials?.['privPassword'] ? { privKey: await ask.secret(['privPassword']) } : {}),
        },
      };
  const amm = new AmmSnmp(`seed ${ask.index}`, target);
  const slots = Array.from({ length: MAX_SLOTS }, (_, i) => i + 1);
  const exists = await amm.get(
    slots.map((slot) => oidOf(BLADE_OIDS.bladeExists, slot)),
    'list the blades',
  );
  const machines: MachineObservation[] = [];
  for (const slot of slots.filter((_, i) => exists[i] === 1)) {
    if (ask.signal.aborted) throw ask.signal.reason;
    const [state, serial, type, ...macs] = await amm.get(
      [BLADE_OIDS.bladePowerState, BLADE_OIDS.serial, BLADE_OIDS.machineType, ...BLADE_OIDS.macs].map((c) =>
        oidOf(c, slot),
      ),
      `read blade ${slot}`,
    );
    const vpd = vpdIdentity({ serial, type, macs });
    machines.push({
      seed: ask.index,
      kind: 'bladecenter',
      name: `slot-${slot}`,
      identifiers: {
        ...(vpd.serial ? { serial: vpd.serial } : {}),
        ...(vpd.model ? { model: vpd.model } : {}),
        macs: vpd.macs ?? [],
        bmcAddress: `${display}#${slot}`,
      },
      facts: typeof state === 'number' ? { power: state === 1 ? 'on' : 'off' } : {},
      settings: { amm: host, snmpPort: port, slot },
    });
  }
  return { machines, volumes: [] };
}
