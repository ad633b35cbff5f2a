/**
 * A BladeCenter chassis for tests: Debian's real `snmpd` on a free 127.0.0.1 UDP port, with its own
 * configuration in a temp dir (an SNMPv1/v2c community with write access, and an SNMPv3 user, SHA + AES,
 * that may sign in with authentication, with or without privacy; or, with `v3`, only with privacy), and
 * amm-pass.mjs (pass_persist) serving the AMM's blade MIB from a chassis file. A blade's power-on runs its `start`
 * command: by default a tiny "operating system" that prints the boot marker on the blade's console;
 * `qemuStart` makes it a qemu that boots the blade's disk. stop() ends snmpd and every blade process
 * by PID, then removes the temp dir.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freeUdpPort, requireTool } from '../machines-host';

const run = promisify(execFile);
const PASS_SCRIPT = fileURLToPath(new URL('./amm-pass.mjs', import.meta.url));

export interface ChassisBlade {
  serial: string;
  type: string;
  /** As the AMM shows them (upper case, colons). */
  macs: string[];
  bootSequence: number[];
  start: string[];
  console: string;
  pid?: number;
}

export interface Amm {
  host: string;
  port: number;
  community: string;
  v3: { user: string; password: string; privPassword: string };
  dir: string;
  /** The console log of the blade in `slot`. */
  consoleOf(slot: number): string;
  chassis(): Promise<{ blades: Record<string, ChassisBlade> }>;
  /** Changes a blade's entry (its start command, …). */
  updateBlade(slot: number, patch: Partial<ChassisBlade>): Promise<void>;
  stop(): Promise<void>;
}

export interface AmmOptions {
  /** Slot → serial; the others are empty. Default: blades in slots 1, 2 and 5. */
  slots?: number[];
  /**
   * The SNMPv3 user to create (SHA + AES), with write access only with privacy (authPriv). Default:
   * a user with random passwords that may also sign in with authentication alone (authNoPriv).
   */
  v3?: { user: string; authPassword: string; privPassword: string };
}

/** A start command that boots in half a second: the boot marker on the console, then idles. */
export function markerStart(): string[] {
  return ['sh', '-c', 'sleep 0.5; printf "Booting from the fabric\\nENCOMPASS-BOOTED\\n"; exec sleep 86400'];
}

/** A start command that boots `disk` (a raw ext4 root) in qemu with `kernel`/`initrd`, console on stdout. */
export function qemuStart(b: { disk: string; kernel: string; initrd: string }): string[] {
  return [
    'qemu-system-x86_64',
    ...['-accel', 'tcg', '-m', '256', '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot'],
    ...['-kernel', b.kernel, '-initrd', b.initrd],
    ...['-append', 'console=ttyS0 root=/dev/vda rw init=/init panic=-1'],
    ...['-drive', `file=${b.disk.replaceAll(',', ',,')},format=raw,if=virtio`, '-serial', 'stdio', '-nic', 'none'],
  ];
}

export async function startAmm(opts: AmmOptions = {}): Promise<Amm> {
  await requireTool('snmpd', 'snmpd');
  await requireTool('snmpget', 'snmp');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-amm-'));
  const port = await freeUdpPort();
  const community = `c-${randomBytes(6).toString('hex')}`;
  const v3 = opts.v3
    ? { user: opts.v3.user, password: opts.v3.authPassword, privPassword: opts.v3.privPassword }
    : {
        user: 'encompass',
        password: `a-${randomBytes(6).toString('hex')}`,
        privPassword: `p-${randomBytes(6).toString('hex')}`,
      };
  const consoleOf = (slot: number) => path.join(dir, `blade${slot}.console`);
  const blades: Record<string, ChassisBlade> = {};
  for (const slot of opts.slots ?? [1, 2, 5]) {
    const hex = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
    blades[slot] = {
      serial: `99B${String(slot).padStart(4, '0')}`,
      type: '8853AC1',
      macs: [`00:1A:64:76:${hex(slot)}:10`, `00:1A:64:76:${hex(slot)}:11`],
      bootSequence: [2, 3, 7, 0],
      start: markerStart(),
      console: consoleOf(slot),
    };
  }
  const chassisFile = path.join(dir, 'chassis.json');
  await fs.writeFile(chassisFile, JSON.stringify({ blades }, null, 2));
  await fs.mkdir(path.join(dir, 'persist'));
  await fs.writeFile(
    path.join(dir, 'snmpd.conf'),
    `rwcommunity ${community} 127.0.0.1
createUser ${v3.user} SHA "${v3.password}" AES "${v3.privPassword}"
rwuser ${v3.user} ${opts.v3 ? 'priv' : 'auth'}
pass_persist .1.3.6.1.4.1.2.3.51.2 ${process.execPath} ${PASS_SCRIPT} ${chassisFile}
`,
  );
  const snmpd = spawn(
    'snmpd',
    [
      '-f',
      '-C',
      '-c',
      path.join(dir, 'snmpd.conf'),
      '-Lf',
      path.join(dir, 'snmpd.log'),
      '-I',
      '-smux',
      `udp:127.0.0.1:${port}`,
    ],
    { stdio: 'ignore', env: { ...process.env, SNMP_PERSISTENT_DIR: path.join(dir, 'persist'), MIBS: '' } },
  );
  const chassis = async () =>
    JSON.parse(await fs.readFile(chassisFile, 'utf8')) as { blades: Record<string, ChassisBlade> };
  const stop = () => stopAmm(snmpd, dir, chassis);
  try {
    await waitUntilAnswering(port, community, snmpd, dir);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    community,
    v3,
    dir,
    consoleOf,
    chassis,
    async updateBlade(slot, patch) {
      const c = await chassis();
      c.blades[slot] = { ...c.blades[slot]!, ...patch };
      await fs.writeFile(`${chassisFile}.tmp`, JSON.stringify(c, null, 2));
      await fs.rename(`${chassisFile}.tmp`, chassisFile);
    },
    stop,
  };
}

/**
 * Net-SNMP's own `snmpget -v3` of `oid` as the chassis' SNMPv3 user (SHA + AES), at `level`: its
 * output, or its error text. Confirms the agent's v3 configuration independently of the driver.
 */
export async function snmpgetV3(
  a: Amm,
  oid: string,
  opts: { level: 'authPriv' | 'authNoPriv'; authPassword?: string; privPassword?: string },
): Promise<string> {
  const keys = ['-a', 'SHA', '-A', opts.authPassword ?? a.v3.password];
  if (opts.level === 'authPriv') keys.push('-x', 'AES', '-X', opts.privPassword ?? a.v3.privPassword);
  return run(
    'snmpget',
    ['-v3', '-l', opts.level, '-u', a.v3.user, ...keys, '-r', '0', '-t', '2', `${a.host}:${a.port}`, oid],
    {
      env: { ...process.env, MIBS: '', SNMP_PERSISTENT_DIR: path.join(a.dir, 'client') },
    },
  ).then(
    ({ stdout }) => stdout,
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
}

async function waitUntilAnswering(port: number, community: string, snmpd: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const log = () => fs.readFile(path.join(dir, 'snmpd.log'), 'utf8').catch(() => '');
  for (;;) {
    if (snmpd.exitCode !== null) throw new Error(`snmpd exited with ${snmpd.exitCode}: ${await log()}`);
    const ok = await run('snmpget', [
      '-v1',
      '-c',
      community,
      '-r',
      '0',
      '-t',
      '1',
      `127.0.0.1:${port}`,
      '.1.3.6.1.4.1.2.3.51.2.22.1.5.1.1.3.1',
    ]).then(
      ({ stdout }) => /INTEGER/.test(stdout),
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`snmpd on port ${port} did not answer within 15 s: ${await log()}`);
    await sleep(200);
  }
}

/** Ends every blade process the chassis started (its process group, by PID), then snmpd, then removes the dir. */
async function stopAmm(
  snmpd: ChildProcess,
  dir: string,
  chassis: () => Promise<{ blades: Record<string, ChassisBlade> }>,
): Promise<void> {
  const blades = await chassis().then(
    (c) => Object.values(c.blades),
    () => [],
  );
  for (const b of blades) {
    if (!b.pid) continue;
    try {
      process.kill(-b.pid, 'SIGKILL');
    } catch {
      // Powered off already.
    }
  }
  if (snmpd.exitCode === null && snmpd.signalCode === null) {
    const exited = new Promise((resolve) => snmpd.once('exit', resolve));
    snmpd.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (snmpd.exitCode === null && snmpd.signalCode === null) snmpd.kill('SIGKILL');
  }
  await fs.rm(dir, { recursive: true, force: true });
}
