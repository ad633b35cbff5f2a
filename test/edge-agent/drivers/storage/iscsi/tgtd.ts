/** A real tgtd for tests, on 127.0.0.1 and its own control port, and qemu's iSCSI client to reach it. */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { IscsiDisk } from '../../../../../edge-agent/drivers/disk';
import { removeControlSocket } from '../../../../../edge-agent/drivers/storage/iscsi/target';
import { requireTool, sha256OfFile } from '../images';

const run = promisify(execFile);

/** Fails (never skips) when tgt or qemu's iSCSI client are missing, saying what to install. */
export function requireIscsiTools(): void {
  requireTool('tgtd', 'tgt');
  requireTool('tgtadm', 'tgt');
  requireTool('qemu-img', 'qemu-utils');
  requireTool('qemu-io', 'qemu-utils');
  if (!/\biscsi\b/.test(execFileSync('qemu-img', ['--help']).toString())) {
    throw new Error(
      'These tests need qemu-img with the iscsi block driver: install qemu-block-extra (apt-get install qemu-block-extra).',
    );
  }
}

export interface TestTgtd {
  pid: number;
  portal: string;
  controlPort: number;
  tgtadm(...args: string[]): Promise<string>;
  /** Deletes every target, then the system (tgtd ignores SIGTERM); SIGKILL by PID if it lingers. */
  stop(): Promise<void>;
}

function tgtadmOn(controlPort: number, args: string[]): Promise<string> {
  return run('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', ...args]).then((r) => r.stdout);
}

export async function startTgtd(port: number, controlPort = port): Promise<TestTgtd> {
  requireIscsiTools();
  const portal = `127.0.0.1:${port}`;
  if (
    await tgtadmOn(controlPort, ['--op', 'show', '--mode', 'sys']).then(
      () => true,
      () => false,
    )
  ) {
    throw new Error(
      `A tgtd already answers on control port ${controlPort} (left over from an earlier run?). Stop it and rerun.`,
    );
  }
  const child = spawn('tgtd', ['-f', '--iscsi', `portal=${portal}`, '-C', String(controlPort)], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = () => stopTgtd(child, controlPort, exited);
  for (let i = 0; i < 100; i++) {
    const served = await tgtadmOn(controlPort, ['--op', 'show', '--mode', 'portal']).catch(() => '');
    if (served.includes(`Portal: ${portal},`)) {
      return { pid: child.pid!, portal, controlPort, tgtadm: (...args) => tgtadmOn(controlPort, args), stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`tgtd did not come up serving ${portal} within 5 s`);
}

async function stopTgtd(child: ChildProcess, controlPort: number, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    const shown = await tgtadmOn(controlPort, ['--op', 'show', '--mode', 'target']);
    for (const m of shown.matchAll(/^Target (\d+):/gm))
      await tgtadmOn(controlPort, ['--op', 'delete', '--mode', 'target', '--force', '--tid', m[1]!]);
    await tgtadmOn(controlPort, ['--op', 'delete', '--mode', 'system']);
  } catch {
    // The kill below settles it.
  }
  const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
  if (!gone) {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
  await removeControlSocket(controlPort);
}

/** True while a process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function imageOpts(disk: IscsiDisk, initiator: string): string {
  return `driver=iscsi,transport=tcp,portal=${disk.portal},target=${disk.target},lun=${disk.lun},initiator-name=${initiator}`;
}

export interface LoginResult {
  ok: boolean;
  output: string;
  ms: number;
}

/** `qemu-img info` through the LUN as `initiator`. */
export async function qemuImgInfo(disk: IscsiDisk, initiator: string): Promise<LoginResult> {
  const started = Date.now();
  const r = await run('qemu-img', ['info', '--image-opts', imageOpts(disk, initiator)], { timeout: 20_000 }).then(
    ({ stdout }) => ({ ok: true, output: stdout }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  return { ...r, ms: Date.now() - started };
}

/** sha256 of the whole LUN, read as `initiator` with `qemu-img convert -O raw` into `dir`. */
export async function lunSha256(disk: IscsiDisk, initiator: string, dir: string): Promise<string> {
  const out = path.join(dir, `lun-${Date.now()}.raw`);
  await run('qemu-img', ['convert', '--image-opts', imageOpts(disk, initiator), '-O', 'raw', out], { timeout: 60_000 });
  try {
    return await sha256OfFile(out);
  } finally {
    await fs.rm(out, { force: true });
  }
}

/** A logged-in session held open by an interactive `qemu-io`, until `close`. */
export async function holdSession(disk: IscsiDisk, initiator: string): Promise<{ close(): Promise<void> }> {
  const child = spawn('qemu-io', ['--image-opts', imageOpts(disk, initiator)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      if (output.includes('qemu-io>')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`qemu-io exited before logging in: ${output}`)));
  });
  return {
    async close() {
      child.stdin.end('quit\n');
      await exited;
    },
  };
}
