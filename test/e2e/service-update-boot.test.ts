/**
 * A service update on real qemu machines. Two machines are deployed from a busybox master whose
 * /etc/version is 1, with hostnames web-1 and web-2; the service is updated to a master whose
 * /etc/version is 2, then rolled back. After each phase every guest's console shows its hostname
 * and the version it booted, the console and the qemu process are those of a boot made in that
 * phase (on the clone the machine now carries), and the rollback made no clone. Six boots in all.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { qemuName } from '../../edge-agent/drivers/machine/qemu/command';
import { QemuMachineDriver } from '../../edge-agent/drivers/machine/qemu/driver';
import { type MachineRef, machineRef } from '../../statemachines/tasks';
import { Api } from '../support/api';
import { bootKernel, makeBootableRoot } from '../support/bootable';
import { hostnameItems, unique } from '../support/fixtures';

const api = Api.admin();
const STATE_DIR = join(inject('stack').home, 'agent/state/qemu');
const qemu = new QemuMachineDriver({ stateDir: STATE_DIR });
/** A phase boots two machines under TCG, side by side, after powering the two before off. */
const PHASE_MS = 300_000;

/** What a machine runs now, as its guest and the agent's host show it. */
interface Boot {
  hostname: string[];
  version: string[];
  pid: number;
  /** qemu's command line, which names the disk it booted. */
  argv: string[];
  /** How often the machine booted, as the agent counts it. */
  machineBoots: number;
}

interface MasterRef {
  id: string;
  name: string;
}

/** What the agent keeps about a qemu machine: its boot count and its qemu process. */
async function agentRecord(machine: MachineRef): Promise<any> {
  return JSON.parse(await readFile(join(STATE_DIR, `qemu-${encodeURIComponent(machine.id)}.json`), 'utf8'));
}

/** The command line of `machine`'s qemu process `pid` while it runs; undefined once it is gone. */
async function qemuArgv(pid: number, machine: MachineRef): Promise<string[] | undefined> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return argv.includes(qemuName(machine)) ? argv : undefined;
}

describe('a service update on qemu machines rolls a new version out and back, each machine keeping its hostname', () => {
  let dir: string;
  let repo: string;
  let v1: MasterRef;
  let v2: MasterRef;
  const machines: MachineRef[] = [];
  let deployment: any;
  let update: string;
  /** Every qemu process seen, with its machine, so none outlives the suite. */
  const seen = new Map<number, MachineRef>();
  /** The PIDs of the phase before, which must be gone once the next phase booted. */
  let previous: number[] = [];
  let phase = 0;

  async function importMaster(version: string): Promise<MasterRef> {
    const path = `masters/v${version}.img`;
    await makeBootableRoot(join(dir, path), { sizeMiB: 24, files: { 'etc/version': `${version}\n` } });
    const name = unique(`svc-v${version}`);
    const op = await api.run('/v1/masters', { name, repository: repo, path, customization: hostnameItems });
    expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    return { id: op.result.master as string, name };
  }

  beforeAll(async () => {
    const { kernel, initrd } = bootKernel();
    dir = await mkdtemp(join(tmpdir(), 'encompass-update-boot-'));
    await chmod(dir, 0o755);
    repo = unique('nas');
    const r = await api.createRepository({ name: repo, site: 'local', kind: 'file', path: dir });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    v1 = await importMaster('1');
    v2 = await importMaster('2');
    for (const i of [1, 2]) {
      const m = await api.post('/v1/machines', {
        name: unique(`web${i}`),
        site: 'local',
        kind: 'qemu',
        cpus: 1,
        memoryMiB: 512,
        identity: { macs: [`52:54:00:00:01:0${i}`] },
        settings: { kernel, initrd, memoryMiB: 512, bootTimeoutSeconds: 240, powerOffGraceSeconds: 30 },
      });
      expect(m.status, JSON.stringify(m.body)).toBe(201);
      machines.push(machineRef.parse(m.body));
    }
  }, 120_000);

  afterAll(async () => {
    if (deployment) {
      // The deployment's teardown powers off and destroys the clones its members made.
      const del = await api.del(`/v1/deployments/${deployment.id}`);
      if (del.status === 202) await api.wait(del.body.operation, PHASE_MS).catch(() => undefined);
    }
    for (const c of await clonesOfSuite().catch(() => [])) await destroy(c.id).catch(() => undefined);
    for (const m of machines) await api.del(`/v1/machines/${m.id}`);
    for (const master of [v1, v2]) if (master) await api.del(`/v1/masters/${master.id}`);
    if (repo) await api.del(`/v1/repositories/${repo}`);
    for (const m of machines) {
      const pid = (await agentRecord(m).catch(() => undefined))?.process?.pid;
      if (pid) seen.set(pid, m);
    }
    const left = [];
    for (const [pid, machine] of seen) {
      if (!(await qemuArgv(pid, machine))) continue;
      process.kill(pid, 'SIGKILL');
      left.push(pid);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    expect(left, 'qemu processes still running after the teardown (now killed)').toEqual([]);
  }, PHASE_MS + 120_000);

  /** Takes a clone down one binding at a time and destroys it. */
  async function destroy(id: string) {
    const down = { active: 'deactivate', attached: 'detach', assigned: 'unassign', unassigned: 'destroy' } as const;
    for (;;) {
      const c = (await api.get(`/v1/clones/${id}`)).body;
      if (c.status !== 'ready') return;
      const event = down[c.binding as keyof typeof down];
      const op = await api.run(`/v1/clones/${id}/${event}`);
      if (op.status !== 'succeeded') throw new Error(`${event} of clone ${id}: ${JSON.stringify(op.error)}`);
    }
  }

  /** The clones of this suite's two masters, as `GET /v1/clones` lists them. */
  async function clonesOfSuite(): Promise<any[]> {
    const ours = new Set([v1?.id, v2?.id]);
    const found: any[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.get(`/v1/clones?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      found.push(...page.body.items.filter((c: any) => ours.has(c.master)));
      cursor = page.body.cursor;
    } while (cursor);
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The machine's console and qemu process, and the clone it carries. */
  async function bootOf(machine: MachineRef): Promise<Boot & { clone: any }> {
    const record = (await api.get(`/v1/machines/${machine.id}`)).body;
    const clone = (await api.get(`/v1/clones/${record.clone}`)).body;
    const state = await agentRecord(machine);
    expect(state.process, `the agent records no qemu process for ${machine.name}`).toBeDefined();
    const pid: number = state.process.pid;
    const argv = await qemuArgv(pid, machine);
    expect(argv, `qemu ${pid} of ${machine.name} is not running`).toBeDefined();
    seen.set(pid, machine);
    const text = await qemu.console(machine);
    // Not anchored at the line's end: a kernel message may be printed right after the value.
    const lines = (label: string) => [...text.matchAll(new RegExp(`${label}: ([\\w.-]*)`, 'g'))].map((x) => x[1]!);
    return {
      clone,
      pid,
      argv: argv!,
      machineBoots: state.bootCount,
      hostname: lines('ENCOMPASS-HOSTNAME'),
      version: lines('ENCOMPASS-VERSION'),
    };
  }

  /**
   * Each member's machine booted, in this phase, the clone of `master` it carries: one boot's
   * console with the member's hostname and `version`, from a qemu process that was not there before.
   */
  async function expectRunning(master: MasterRef, version: string) {
    phase++;
    const boots = [];
    for (const member of deployment.members) {
      const machine = machines.find((m) => m.id === member.machine)!;
      const boot = await bootOf(machine);
      expect(boot.clone).toMatchObject({ master: master.id, binding: 'active', machine: machine.id });
      expect(boot.argv.some((a) => a.includes(join(dir, boot.clone.path)))).toBe(true);
      expect(previous).not.toContain(boot.pid);
      // One boot per machine per phase: six in all.
      expect(boot.machineBoots).toBe(phase);
      expect({ hostname: boot.hostname, version: boot.version }).toEqual({
        hostname: [`web-${member.index}`],
        version: [version],
      });
      boots.push(boot);
    }
    for (const pid of previous)
      expect(await qemuArgv(pid, seen.get(pid)!), `qemu ${pid} of the phase before still runs`).toBeUndefined();
    previous = boots.map((b) => b.pid);
    return boots;
  }

  /** The clones of version 1 that the deployment made, by member. */
  let first: string[];

  it(
    'deploys version 1 onto both machines, each booting with its own hostname',
    async () => {
      const r = await api.post('/v1/deployments', {
        master: v1.name,
        machines: machines.map((m) => m.name),
        variables: { hostname: 'web-${index}' },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const op = await api.wait(r.body.operation, PHASE_MS);
      deployment = (await api.get(`/v1/deployments/${r.body.id}`)).body;
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      expect(deployment.members.map((m: any) => m.machine)).toEqual(machines.map((m) => m.id));
      first = (await expectRunning(v1, '1')).map((b) => b.clone.id);
    },
    PHASE_MS,
  );

  it(
    'updates both machines to version 2 with the hostnames they had, the old clones kept as standbys',
    async () => {
      const r = await api.post('/v1/service-updates', {
        deployment: deployment.id,
        newMaster: v2.id,
        waves: { size: 2 },
        // Each guest must print its own hostname on this boot's console (rendered per machine).
        healthCheck: { kind: 'console', marker: 'ENCOMPASS-HOSTNAME: ${hostname}', timeoutSeconds: 120 },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      update = r.body.id;
      const op = await api.wait(r.body.operation, PHASE_MS);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      const boots = await expectRunning(v2, '2');
      const view = (await api.get(`/v1/service-updates/${update}`)).body;
      expect(view.machines.map((m: any) => [m.old, m.new, m.outcome])).toEqual(
        boots.map((b, i) => [first[i], b.clone.id, 'succeeded']),
      );
      expect(view.machines.map((m: any) => m.health?.healthy)).toEqual([true, true]);
      for (const old of first)
        expect((await api.get(`/v1/clones/${old}`)).body).toMatchObject({ binding: 'unassigned', status: 'ready' });
    },
    PHASE_MS,
  );

  it(
    'rolls back to the standby clones: version 1 boots again with the same hostnames, and nothing is cloned',
    async () => {
      const clonesBefore = await clonesOfSuite();
      expect(clonesBefore).toHaveLength(4);
      const r = await api.post(`/v1/service-updates/${update}/rollback`);
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      const op = await api.wait(r.body.operation, PHASE_MS);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      const boots = await expectRunning(v1, '1');
      expect(boots.map((b) => b.clone.id)).toEqual(first);
      const clonesAfter = await clonesOfSuite();
      expect(clonesAfter.map((c) => [c.id, c.status])).toEqual(clonesBefore.map((c) => [c.id, 'ready']));
      expect((await api.get(`/v1/service-updates/${update}`)).body.status).toBe('rolled_back');
    },
    PHASE_MS,
  );
});
