/**
 * govmomi's vCenter simulator for the vSphere tests: main.go beside this file, built on demand with
 * Debian's Go and govmomi library (GOPATH mode, offline) into a cache directory keyed by the source's
 * hash, so a test run builds it once (under a minute). Each start serves a fresh inventory (one
 * datacenter, hosts, VMs powered off, datastore LocalDS_0 in a temp directory of its own) on a port
 * the OS picks on 127.0.0.1, with the one account given through the environment.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '../machines-host';

const SOURCE = fileURLToPath(new URL('main.go', import.meta.url));
const GOPATH = '/usr/share/gocode';
const LIBRARY = `${GOPATH}/src/github.com/vmware/govmomi/simulator`;

let building: Promise<string> | undefined;

/** The simulator's binary, built once per source version; fails with what to install when Go or govmomi is missing. */
export function vcsimBinary(): Promise<string> {
  building ??= build();
  return building;
}

async function build(): Promise<string> {
  await requireTool('go', 'golang-go');
  await fs.access(LIBRARY).catch(() => {
    throw new Error(
      `govmomi's simulator library is not at ${LIBRARY}; install it with: apt-get install -y golang-github-vmware-govmomi-dev`,
    );
  });
  const hash = createHash('sha256')
    .update(await fs.readFile(SOURCE))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(os.tmpdir(), 'encompass-vcsim', hash);
  const binary = path.join(dir, 'vcsim');
  if (
    await fs.access(binary).then(
      () => true,
      () => false,
    )
  )
    return binary;
  await fs.mkdir(dir, { recursive: true });
  // Built beside, then renamed: two test files building at once each get a whole binary.
  const partial = `${binary}.${process.pid}.partial`;
  await promisify(execFile)('go', ['build', '-o', partial, SOURCE], {
    cwd: path.dirname(SOURCE),
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: path.join(dir, 'gocache') },
    timeout: 600_000,
  });
  await fs.rename(partial, binary);
  return binary;
}

export interface Vcsim {
  /** The /sdk URL. */
  url: string;
  username: string;
  password: string;
  /** The datastore's name and its directory on this host: a file there is `[name] file` to vSphere. */
  datastore: { name: string; dir: string };
  pid: number;
  /** What the simulator wrote to stderr so far (its log: faults, panics of a handler): for a failing test to show. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startVcsim(opts: { vms?: number; username?: string; password?: string } = {}): Promise<Vcsim> {
  const binary = await vcsimBinary();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-vcsim-run-'));
  const username = opts.username ?? 'encompass@vsphere.local';
  const password = opts.password ?? 'Vc-simulator-9';
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-vms', String(opts.vms ?? 2)], {
    env: { PATH: process.env['PATH'] ?? '', TMPDIR: tmp, VCSIM_USERNAME: username, VCSIM_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const stop = async () => {
    await stopChild(child);
    await fs.rm(tmp, { recursive: true, force: true });
  };
  try {
    const line = await firstLine(child, () => stderr);
    const ready = JSON.parse(line) as { url: string; datastore: string; name: string };
    return {
      url: ready.url,
      username,
      password,
      datastore: { name: ready.name, dir: ready.datastore },
      pid: child.pid!,
      stderr: () => stderr,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function firstLine(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (l) => {
      lines.close();
      resolve(l);
    });
    child.once('exit', (code) =>
      reject(new Error(`the vCenter simulator exited (${code}) before it listened: ${stderr()}`)),
    );
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
