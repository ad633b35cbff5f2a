/**
 * An `amt` seed: one Intel AMT firmware (`host[:port]`, 16992 by default), asked over WS-Management
 * with the machine driver's client (HTTP Digest: the password only enters the digest). Reads the
 * power state, PlatformGUID, the chassis serial, model and maker, and the MACs of the AMT Ethernet
 * ports, which AMT writes with dashes and the report carries normalized.
 */
import { Amt } from '../drivers/machine/amt/amt';
import { WsmanClient } from '../drivers/machine/amt/wsman';
import { hostPort, type Observed, type SeedAsk } from './seed';

const REQUEST_SECONDS = 15;

export async function askAmt(ask: SeedAsk): Promise<Observed> {
  const { host, port } = hostPort('amt', ask.seed.address, 16992);
  const user = await ask.secret(['user', 'username']).catch(() => 'admin');
  const password = await ask.secret(['password']);
  const h = host.includes(':') ? `[${host}]` : host;
  const who = `seed ${ask.index}`;
  const amt = new Amt(
    who,
    new WsmanClient(who, {
      origin: `http://${h}:${port}`,
      user,
      password,
      timeoutMs: (ask.seed.timeoutSeconds ?? REQUEST_SECONDS) * 1000,
    }),
  );
  const power = await amt.power();
  const { uuid, serial, model, manufacturer, macs = [] } = await amt.identity();
  return {
    machines: [
      {
        seed: ask.index,
        kind: 'amt',
        identifiers: {
          ...(uuid ? { uuid } : {}),
          ...(serial ? { serial } : {}),
          ...(model ? { model } : {}),
          macs,
          bmcAddress: `${h}:${port}`,
        },
        facts: { power: power === 'off' ? 'off' : 'on', ...(manufacturer ? { manufacturer } : {}) },
        settings: { host, port },
      },
    ],
    volumes: [],
  };
}
