/**
 * A simulated blade behind a real BMC: OpenIPMI's `ipmi_sim` on 127.0.0.1 with free ports, configured
 * in a temp dir. Power on runs a tiny "operating system" (a shell script) that writes the boot marker
 * to a serial console log after half a second and then idles, or the caller's `startcmd` (e.g.
 * blade-qemu.ts, a blade that boots qemu from a LUN). Power off sends SIGTERM to that process only
 * (its children are not signalled, and outlive it), then SIGKILL after `kill_wait` (2 s). `chassis power
 * soft` is refused unless a VM is connected to the BMC's VM port (`vmPort`); then it reaches the guest
 * as an ACPI power button press. The blade is on while the process runs; ipmi_sim's exit leaves it running.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { buildFru } from './machines-fru';
import { freeTcpPort, freeUdpPort, requireTool } from './machines-host';

const run = promisify(execFile);

export interface IpmiSimBlade {
  host: string;
  port: number;
  user: string;
  password: string;
  /** What `mc guid` reports, as ipmitool decodes it. */
  uuid: string;
  /** The FRU board serial. */
  serial: string;
  /** The blade's serial console log. */
  consoleLog: string;
  /** The TCP port of the BMC's VM interface (`serial … codec VM`): qemu's ipmi-bmc-extern connects here. */
  vmPort: number;
  dir: string;
  /** The next boots print a kernel panic instead of the boot marker, until `failBoots(false)`. */
  failBoots(fail: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** ipmi_sim's `guid` is sent as stored and ipmitool reverses all 16 bytes (IPMI order), so store it reversed. */
function guidConfigFor(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  return hex.match(/../g)!.reverse().join('');
}

export interface IpmiSimOptions {
  serial?: string;
  uuid?: string;
  /** The UDP port the BMC answers on; a free one by default. */
  port?: number;
  /** The BMC user's password; a random one by default (a blade moved to another port keeps its own). */
  password?: string;
  /** What power on runs instead of the idle script. Power off signals only that PID: a script should exec its program. */
  startcmd?: string;
}

export async function startIpmiSim(opts: IpmiSimOptions = {}): Promise<IpmiSimBlade> {
  await requireTool('ipmi_sim', 'openipmi');
  await requireTool('ipmitool', 'ipmitool');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-ipmi-sim-'));
  const port = opts.port ?? (await freeUdpPort());
  const serialPort = await freeTcpPort();
  const blade = {
    host: '127.0.0.1',
    port,
    user: 'encompass',
    password: opts.password ?? `pw-${randomBytes(6).toString('hex')}`,
    uuid: opts.uuid ?? '4f1c2d3e-5a6b-4c7d-8e9f-a0b1c2d3e4f5',
    serial: opts.serial ?? `SN-${randomBytes(4).toString('hex').toUpperCase()}`,
    consoleLog: path.join(dir, 'console.log'),
    vmPort: serialPort,
    dir,
  };
  const bladeScript = path.join(dir, 'blade.sh');
  await fs.writeFile(
    bladeScript,
    `#!/bin/sh
echo $$ > '${dir}/blade.pid'
sleep 0.5
if [ -e '${dir}/fail-boot' ]; then echo 'Kernel panic - not syncing: VFS: Unable to mount root fs' >> '${blade.consoleLog}'
else printf 'Booting from the fabric\\nENCOMPASS-BOOTED\\n' >> '${blade.consoleLog}'; fi
exec sleep 86400
`,
    { mode: 0o755 },
  );
  await fs.writeFile(path.join(dir, 'lan.conf'), lanConf(blade, serialPort, opts.startcmd ?? bladeScript));
  await fs.writeFile(path.join(dir, 'blade.emu'), emu(blade.serial));
  await fs.mkdir(path.join(dir, 'state'));

  const sim = spawn(
    'ipmi_sim',
    ['-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'blade.emu'), '-s', path.join(dir, 'state'), '-n'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  sim.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const stop = () => stopSim(sim, dir);
  try {
    await waitUntilAnswering(blade, sim, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ...blade,
    failBoots: (fail) =>
      fail ? fs.writeFile(path.join(dir, 'fail-boot'), '') : fs.rm(path.join(dir, 'fail-boot'), { force: true }),
    stop,
  };
}

function lanConf(
  b: { port: number; user: string; password: string; uuid: string },
  serialPort: number,
  startcmd: string,
): string {
  const auths = 'none md2 md5 straight';
  return `name "encompass-blade"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${b.port}
    priv_limit admin
    allowed_auths_callback ${auths}
    allowed_auths_user ${auths}
    allowed_auths_operator ${auths}
    allowed_auths_admin ${auths}
    guid ${guidConfigFor(b.uuid)}
  endlan
  serial 15 127.0.0.1 ${serialPort} codec VM
  startcmd "${startcmd}"
  startnow false
  poweroff_wait 5
  kill_wait 2
  user 1 true  ""        "unused" user     10       none md2 md5 straight
  user 2 true  "${b.user}" "${b.password}" admin    10       ${auths}
`;
}

function emu(serial: string): string {
  const fru = buildFru({ manufacturer: 'FeasCorp', product: 'Blade-X1', serial, partNumber: 'PN-42' });
  return `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_add_fru_data 0x20 0 0x100 data ${fru.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ')}
mc_enable 0x20
`;
}

async function waitUntilAnswering(
  b: { port: number; user: string; password: string },
  sim: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (sim.exitCode !== null) throw new Error(`ipmi_sim exited with ${sim.exitCode}: ${stderr()}`);
    const ok = await run(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        '3',
        '-H',
        '127.0.0.1',
        '-p',
        String(b.port),
        '-U',
        b.user,
        '-E',
        '-N',
        '1',
        '-R',
        '1',
        'chassis',
        'power',
        'status',
      ],
      { env: { ...process.env, IPMI_PASSWORD: b.password } },
    ).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`ipmi_sim on port ${b.port} did not answer within 15 s: ${stderr()}`);
    await sleep(200);
  }
}

/** Stops ipmi_sim and the blade process it started (by their PIDs), then removes the temp dir. */
async function stopSim(sim: ChildProcess, dir: string): Promise<void> {
  // ipmi_sim leaves a running blade process behind when it exits: end it first, while it is still its child.
  for (const pid of sim.pid ? await childrenOf(sim.pid) : []) await killPid(pid);
  if (sim.exitCode === null && sim.signalCode === null) {
    const exited = new Promise((resolve) => sim.once('exit', resolve));
    sim.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (sim.exitCode === null && sim.signalCode === null) sim.kill('SIGKILL');
  }
  const bladePid = Number(await fs.readFile(path.join(dir, 'blade.pid'), 'utf8').catch(() => ''));
  // Only while that PID is still the blade's idle loop: after a power off it may belong to another process.
  const cmdline = bladePid > 0 ? await fs.readFile(`/proc/${bladePid}/cmdline`, 'utf8').catch(() => '') : '';
  if (cmdline.replace(/\0/g, ' ').trim() === 'sleep 86400') {
    try {
      process.kill(bladePid, 'SIGKILL');
    } catch {
      // Already gone: ipmi_sim powered the blade off.
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** The PIDs whose parent is `parent` (from /proc/PID/stat, whose 4th field is the parent PID). */
async function childrenOf(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(afterComm(stat)[1]);
    if (ppid === parent) out.push(Number(entry));
  }
  return out;
}

/** SIGTERM, then SIGKILL after 3 s, for a process of ours (it is a child of the simulator we started). */
async function killPid(pid: number): Promise<void> {
  // A zombie has exited already; its parent has yet to reap it.
  const alive = async () => /^[^ZX]/.test(procState(await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < 3000 && (await alive()); waited += 100) await sleep(100);
  if (await alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It exited just now.
    }
  }
}

/** The fields of a /proc/PID/stat line after the command name, which is in parentheses and may hold spaces. */
function afterComm(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function procState(stat: string): string {
  return stat ? (afterComm(stat)[0] ?? '') : '';
}
