/**
 * A mock of the AMM's SSH command line (no AMM simulator exists): an `ssh2` server on a free
 * 127.0.0.1 port with a fresh ed25519 host key, one user and password, and the blades of a chassis
 * in memory. It answers the commands the driver sends, as the AMM words them:
 * `power -on|-off|-softoff|-state -T system:blade[N]` (`OK`, `On`/`Off`), `bootseq DEVICE -T …`
 * and `info -T system:blade[N]` (`Name: value` lines). An empty slot answers `Invalid target path`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type AuthContext, type Connection, Server, utils } from 'ssh2';

export interface MockBlade {
  power: 'on' | 'off';
  serial: string;
  type: string;
  uuid: string;
  macs: string[];
  bootFirst?: string;
  /** How each power-off came: `-off` or `-softoff`. */
  offs: string[];
}

export interface AmmCliMock {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The host key's `SHA256:…` fingerprint, as `ssh-keygen -l` prints it. */
  hostKey: string;
  blades: Record<number, MockBlade>;
  /** Every command run, in order. */
  commands: string[];
  stop(): Promise<void>;
}

export async function startAmmCliMock(slots: number[] = [1, 3]): Promise<AmmCliMock> {
  const keys = utils.generateKeyPairSync('ed25519');
  const blob = Buffer.from(keys.public.split(' ')[1]!, 'base64');
  const hostKey = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const user = 'USERID';
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const blades: Record<number, MockBlade> = {};
  for (const slot of slots)
    blades[slot] = {
      power: 'off',
      serial: `KQ${String(slot).padStart(5, '0')}`,
      type: '7870AC1',
      uuid: `4A1B2C3D 5E6F 4071 8293 A4B5C6D7E8F${slot.toString(16)}`,
      macs: [`00-21-5E-0A-0${slot}-40`, `00-21-5E-0A-0${slot}-42`],
      offs: [],
    };
  const commands: string[] = [];
  const server = new Server({ hostKeys: [keys.private] }, (client: Connection) => {
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method === 'password' && ctx.username === user && ctx.password === password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          commands.push(info.command);
          stream.write(`${answer(blades, info.command)}\r\n`);
          stream.exit(0);
          stream.end();
        });
      });
    });
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    hostKey,
    blades,
    commands,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function answer(blades: Record<number, MockBlade>, command: string): string {
  const target = /-T system:blade\[(\d+)\]\s*$/.exec(command);
  const blade = target ? blades[Number(target[1])] : undefined;
  if (!blade) return 'Invalid target path';
  const power = /^power (-on|-off|-softoff|-state) /.exec(command)?.[1];
  if (power === '-state') return blade.power === 'on' ? 'On' : 'Off';
  if (power === '-on') blade.power = 'on';
  else if (power) {
    blade.power = 'off';
    blade.offs.push(power);
  }
  if (power) return 'OK';
  const boot = /^bootseq (\S+) /.exec(command)?.[1];
  if (boot) {
    blade.bootFirst = boot;
    return 'OK';
  }
  if (/^info /.test(command))
    return [
      `UUID: ${blade.uuid}`,
      'Manuf ID: IBM',
      `Mach type/model: ${blade.type}`,
      `Mach serial number: ${blade.serial}`,
      ...blade.macs.map((m, i) => `MAC Address ${i + 1}: ${m}`),
    ].join('\r\n');
  return `Command not recognized: ${command}`;
}
