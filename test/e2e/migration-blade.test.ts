/**
 * Machines are incidental: one customized clone on one iSCSI LUN boots on a qemu machine, migrates
 * (`POST /v1/migrations`, storage "keep") to a blade behind a real BMC (ipmi_sim) and back, and each
 * machine's console shows the hostname the clone was given. Nothing copies the image (the record,
 * the file's inode and the repository's contents stay as they were), and the LUN's name ACL follows
 * the clone: while it is on one machine, the other machine's initiator is refused.
 *
 * The blade is an ipmi_sim whose power on runs test/support/blade-qemu.sh: qemu booting from the LUN
 * named in the blade's boot configuration, connected to the BMC (ipmi-bmc-extern), so `chassis power
 * soft` presses the guest's power button and `chassis power off` ends qemu. ipmi_sim signals only the
 * PID it started, so the script execs qemu.
 *
 * How the blade learns its LUN: a real blade boots from a SAN through the iSCSI boot configuration of
 * its firmware, which its owner sets; IPMI cannot set it (ipmi_sim even refuses `chassis bootdev`) and
 * the ipmi driver only records the disk. The agent names a clone's target after its repository and
 * path (`<iqnPrefix>:<path, / as :>`, LUN 1: edge-agent/drivers/storage/iscsi), and a migration that
 * keeps the storage keeps both, so the target is the same on every machine, although it is deleted when
 * its last initiator leaves and made again at the next attach. So the test plays the blade's owner: it
 * writes the blade's boot configuration from the disk the agent reported when it attached the clone to
 * the qemu machine (the product's own answer, not a name the test makes up), before the migration, and
 * checks that the migration's attach reports the same disk. Letting the blade in stays the product's
 * job: the blade's initiator name is its identity.initiatorName, and only the attach admits it.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IpmiMachineDriver } from '../../edge-agent/drivers/machine/ipmi/driver';
import { QemuMachineDriver } from '../../edge-agent/drivers/machine/qemu/driver';
import { killQemu } from '../../edge-agent/drivers/machine/qemu/process';
import { removeControlSocket } from '../../edge-agent/drivers/storage/iscsi/target';
import { Tgtadm } from '../../edge-agent/drivers/storage/iscsi/tgtadm';
import { Api } from '../support/api';
import { bladeQemuPid, bladeStartCommand, writeBladeBoot } from '../support/blade-qemu';
import { bootKernel, makeBootableRoot } from '../support/bootable';
import { hostnameItems, unique } from '../support/fixtures';
import { type IpmiSimBlade, startIpmiSim } from '../support/machines-ipmi-sim';

const run = promisify(execFile);
const api = Api.admin();
/** The iSCSI portal and tgtd control port, and the BMC's UDP port: no other test uses them. */
const ISCSI_PORT = 3291;
const IPMI_PORT = 9623;
const IQN = 'iqn.2026-11.io.encompass.test';
const APPEND = 'console=ttyS0 root=/dev/vda rw init=/init panic=-1';
const MIGRATION_MS = 480_000;

interface IscsiDisk {
  kind: 'iscsi';
  portal: string;
  target: string;
  lun: number;
}

/** Every file under `root`, relative, with its inode: what the repository holds. */
async function contents(root: string, dir = root): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) Object.assign(out, await contents(root, path));
    else out[relative(root, path)] = (await stat(path)).ino;
  }
  return out;
}

/** What qemu's libiscsi says when `initiator` tries to open the LUN ('' when it got in). */
async function loginError(disk: IscsiDisk, initiator: string): Promise<string> {
  const opts = `driver=iscsi,transport=tcp,portal=${disk.portal},target=${disk.target},lun=${disk.lun},initiator-name=${initiator}`;
  return run('qemu-img', ['info', '--image-opts', opts], { timeout: 30_000 }).then(
    () => '',
    (err: { stderr?: string; message: string }) => err.stderr || err.message,
  );
}

/** The operations a scenario ran, oldest first. */
async function childKinds(parent: string): Promise<{ kind: string; result?: any }[]> {
  const found: any[] = [];
  let cursor: string | undefined;
  do {
    const page = (await api.get(`/v1/operations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`))
      .body;
    found.push(...page.items.filter((o: any) => o.parent === parent));
    cursor = page.cursor;
  } while (cursor);
  return found.reverse();
}

describe('a clone migrates VM → blade → VM over iSCSI, with no copy of its image', () => {
  const stack = inject('stack');
  // The agent's own drivers, on its state: what it knows of each machine's power and disk.
  const qemu = new QemuMachineDriver({ stateDir: join(stack.home, 'agent/state/qemu') });
  const ipmi = new IpmiMachineDriver({ stateDir: join(stack.home, 'agent/state/ipmi'), log: () => undefined });
  const bladeStatus = () => ipmi.status({ ...bladeMachine, credentials: { password: blade!.password } });
  const hostname = unique('mover');
  let dir: string;
  let repoDir: string;
  let bootConfig: string;
  let bladePidFile: string;
  let blade: IpmiSimBlade | undefined;
  let vm: any;
  let bladeMachine: any;
  let clone: any;
  let disk: IscsiDisk;
  let before: { repository: string; path: string; ino: number; files: Record<string, number> };
  let bladeQemu: number | undefined;

  beforeAll(async () => {
    const { kernel, initrd } = bootKernel();
    dir = await mkdtemp(join(tmpdir(), 'encompass-migration-blade-'));
    await chmod(dir, 0o755);
    repoDir = join(dir, 'san');
    bootConfig = join(dir, 'blade-boot.conf');
    bladePidFile = join(dir, 'blade-qemu.pid');
    await makeBootableRoot(join(repoDir, 'masters/boot.img'));
    const repo = await api.createRepository({
      name: unique('san'),
      site: 'local',
      kind: 'iscsi',
      path: repoDir,
      settings: { portal: `127.0.0.1:${ISCSI_PORT}`, iqnPrefix: IQN, controlPort: ISCSI_PORT, manageTarget: true },
    });
    expect(repo.status, JSON.stringify(repo.body)).toBe(201);
    const imported = await api.run('/v1/masters', {
      name: unique('busybox'),
      repository: repo.body.id,
      path: 'masters/boot.img',
      customization: hostnameItems,
    });
    expect(imported.status, JSON.stringify(imported.error)).toBe('succeeded');
    const name = unique('clone');
    const cloned = await api.run('/v1/clones', {
      master: imported.result.master,
      name,
      repository: repo.body.id,
      method: 'san',
    });
    expect(cloned.status, JSON.stringify(cloned.error)).toBe('succeeded');
    clone = (await api.get(`/v1/clones/${name}`)).body;

    const vmReply = await api.post('/v1/machines', {
      name: unique('vm'),
      site: 'local',
      kind: 'qemu',
      cpus: 1,
      memoryMiB: 512,
      identity: {
        macs: ['52:54:00:00:00:31'],
        uuid: '6a1f3c2e-0b4d-4e5f-8a9b-0c1d2e3f4a5b',
        initiatorName: `${IQN}:${unique('vm')}`,
      },
      settings: { kernel, initrd, append: APPEND, memoryMiB: 512, bootTimeoutSeconds: 240 },
    });
    expect(vmReply.status, JSON.stringify(vmReply.body)).toBe(201);
    vm = vmReply.body;

    blade = await startIpmiSim({ port: IPMI_PORT, startcmd: bladeStartCommand(bootConfig) });
    const bladeReply = await api.post('/v1/machines', {
      name: unique('blade'),
      site: 'local',
      kind: 'ipmi',
      cpus: 1,
      memoryMiB: 512,
      identity: { uuid: blade.uuid, serial: blade.serial, initiatorName: `${IQN}:${unique('blade')}` },
      settings: {
        host: blade.host,
        port: blade.port,
        user: blade.user,
        consoleLog: blade.consoleLog,
        bootTimeoutSeconds: 240,
        shutdownGraceSeconds: 60,
      },
      credentials: { password: blade.password },
    });
    expect(bladeReply.status, JSON.stringify(bladeReply.body)).toBe(201);
    bladeMachine = bladeReply.body;
  }, 180_000);

  afterAll(async () => {
    if (clone) {
      for (const event of ['deactivate', 'detach', 'unassign'])
        await api.run(`/v1/clones/${clone.id}/${event}`).catch(() => undefined);
    }
    // Whatever a failed step left running, by PID: the VM's qemu (from the agent's record of it)…
    const vmQemu = vm && (await qemu.records.read(vm).catch(() => undefined))?.process;
    if (vmQemu) await killQemu(vmQemu);
    // …the blade's qemu, then ipmi_sim and any process it started.
    const pid = await bladeQemuPid(bladePidFile);
    if (pid) process.kill(pid, 'SIGKILL');
    await blade?.stop();
    // The agent leaves the tgtd it started running for the machines: its targets go, then the daemon.
    const tgtadm = new Tgtadm(ISCSI_PORT);
    for (const t of await tgtadm.showTargets().catch(() => [])) await tgtadm.deleteTarget(t.tid, true);
    await tgtadm.deleteSystem().catch(() => undefined);
    const answering = () =>
      tgtadm.portals().then(
        () => true,
        () => false,
      );
    for (let i = 0; i < 50 && (await answering()); i++) await sleep(100);
    // tgtd leaves its control socket behind when it exits.
    if (!(await answering())) await removeControlSocket(ISCSI_PORT);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 300_000);

  /** The LUN lets in `admitted` (logged in now, serving the clone's image) and refuses `refused`. */
  async function expectOnlyAdmitted(admitted: string, refused: string) {
    const target = (await new Tgtadm(ISCSI_PORT).showTargets()).find((t) => t.name === disk.target);
    expect(target, `target ${disk.target}`).toBeDefined();
    expect(target!.acl).toEqual([admitted]);
    expect([...new Set(target!.sessions.map((s) => s.initiator))]).toEqual([admitted]);
    expect(target!.luns.find((l) => l.lun === disk.lun)?.backingPath).toBe(join(repoDir, clone.path));
    expect(await loginError(disk, refused)).toMatch(/Failed to log in to target/);
  }

  /** The clone kept its repository and path, its image is the same file, and no image was added. */
  async function expectNoCopy() {
    const now = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect({ repository: now.repository, path: now.path }).toEqual({
      repository: before.repository,
      path: before.path,
    });
    expect((await stat(join(repoDir, now.path))).ino).toBe(before.ino);
    expect(await contents(repoDir)).toEqual(before.files);
  }

  async function migrate(toMachine: string) {
    const r = await api.post('/v1/migrations', { clone: clone.id, toMachine, storage: 'keep' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const op = await api.wait(r.body.operation, MIGRATION_MS);
    const migration = (await api.get(`/v1/migrations/${r.body.id}`)).body;
    expect(op.status, JSON.stringify({ op, migration })).toBe('succeeded');
    const steps = await childKinds(op.id);
    expect(steps.map((s) => s.kind)).toEqual(['deactivate', 'detach', 'unassign', 'assign', 'attach', 'activate']);
    // The new machine was handed the very LUN the blade's firmware was set up with.
    expect(steps.find((s) => s.kind === 'attach')?.result?.disk).toEqual(disk);
    return (await api.get(`/v1/clones/${clone.id}`)).body;
  }

  it('boots the customized clone on the qemu machine through its LUN, which lets in only that machine', async () => {
    let attached: any;
    for (const [event, body] of [
      ['assign', { machine: vm.id, customization: { variables: { hostname } } }],
      ['attach', {}],
      ['activate', {}],
    ] as const) {
      const op = await api.run(`/v1/clones/${clone.id}/${event}`, body);
      expect(op.status, `${event}: ${JSON.stringify(op.error)}`).toBe('succeeded');
      if (event === 'attach') attached = op.result;
    }
    expect(attached.disk).toMatchObject({ kind: 'iscsi', portal: `127.0.0.1:${ISCSI_PORT}`, lun: 1 });
    disk = attached.disk;
    const now = (await api.get(`/v1/clones/${clone.id}`)).body;
    expect(now).toMatchObject({ machine: vm.id, binding: 'active', metastate: 'operational', bootCount: 1 });
    const console = await qemu.console(vm);
    expect(console).toContain(`ENCOMPASS-HOSTNAME: ${hostname}`);
    expect(console).toContain(`ENCOMPASS-UUID: ${vm.identity.uuid}`);
    await expectOnlyAdmitted(vm.identity.initiatorName, bladeMachine.identity.initiatorName);
    const ino = (await stat(join(repoDir, now.path))).ino;
    before = { repository: now.repository, path: now.path, ino, files: await contents(repoDir) };
    expect(before.files[now.path]).toBe(ino);
  }, 400_000);

  it('migrates it to the blade, which boots the same LUN and shows the same hostname; only the blade gets in', async () => {
    // The blade's owner sets up its SAN boot (see the top of the file); the agent decides who gets in.
    await writeBladeBoot(bootConfig, {
      portal: disk.portal,
      target: disk.target,
      lun: disk.lun,
      initiatorName: bladeMachine.identity.initiatorName,
      kernel: vm.settings.kernel,
      initrd: vm.settings.initrd,
      append: APPEND,
      memoryMiB: 512,
      consoleLog: blade!.consoleLog,
      bmcPort: blade!.vmPort,
      pidFile: bladePidFile,
      uuid: blade!.uuid,
      serial: blade!.serial,
    });
    const mark = (await stat(blade!.consoleLog).catch(() => undefined))?.size ?? 0;
    const moved = await migrate(bladeMachine.id);
    expect(moved).toMatchObject({
      machine: bladeMachine.id,
      binding: 'active',
      metastate: 'operational',
    });
    const console = (await readFile(blade!.consoleLog)).subarray(mark).toString();
    expect(console).toContain(`blade firmware: booting iscsi://${disk.portal}/${disk.target}/${disk.lun}`);
    expect(console).toContain(`ENCOMPASS-HOSTNAME: ${hostname}`);
    expect(console).toContain(`ENCOMPASS-UUID: ${blade!.uuid}`);
    bladeQemu = await bladeQemuPid(bladePidFile);
    expect(bladeQemu, 'the blade runs qemu').toBeDefined();
    expect(await bladeStatus()).toMatchObject({ power: 'on', disk, bootCount: 1 });
    expect(await qemu.status(vm)).toEqual({ power: 'off', bootCount: 1 });
    await expectOnlyAdmitted(bladeMachine.identity.initiatorName, vm.identity.initiatorName);
    await expectNoCopy();
  }, 600_000);

  it('migrates it back to the qemu machine, which shows the hostname again; the blade powered off its qemu', async () => {
    expect(bladeQemu, 'the blade booted').toBeDefined();
    const back = await migrate(vm.id);
    expect(back).toMatchObject({ machine: vm.id, binding: 'active', metastate: 'operational' });
    // Each machine counts its own boots: the VM's second, the blade's one.
    expect(await qemu.status(vm)).toMatchObject({ power: 'on', disk, bootCount: 2 });
    const console = await qemu.console(vm);
    expect(console).toContain(`ENCOMPASS-HOSTNAME: ${hostname}`);
    expect(console).toContain(`ENCOMPASS-UUID: ${vm.identity.uuid}`);
    // Powering the blade off ended the qemu its script started (its PID no longer is that qemu).
    expect(await bladeStatus()).toEqual({ power: 'off', bootCount: 1 });
    expect(await bladeQemuPid(bladePidFile)).toBeUndefined();
    expect(await readFile(`/proc/${bladeQemu}/cmdline`, 'utf8').catch(() => '')).not.toContain(bladePidFile);
    await expectOnlyAdmitted(vm.identity.initiatorName, bladeMachine.identity.initiatorName);
    await expectNoCopy();
  }, 600_000);
});
