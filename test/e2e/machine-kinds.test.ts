/**
 * The machine kinds of the paper's systems through the whole stack: registered with the API (their
 * credentials kept as secret references only), driven through the clone lifecycle by the Step
 * Functions workflows and the stack's agent, and read back from the part each driver talks to:
 * govmomi's vCenter simulator (vsphere), Debian's snmpd serving the AMM MIB (bladecenter), the
 * WS-Man service of the tests, a mock (amt), and libvirt's test driver in a libvirtd of the test's
 * own (xen: no real Xen host, so the domain XML and the virsh flow are checked, not a boot).
 * Then discovery of vsphere, bladecenter and amt seeds, and adopting what it found.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Virsh } from '../../edge-agent/drivers/machine/libvirt/virsh';
import { closeVirshShells } from '../../edge-agent/drivers/machine/libvirt/virsh-shell';
import { VimClient } from '../../edge-agent/drivers/machine/vsphere/client';
import { VM_PROPERTIES, vmFacts } from '../../edge-agent/drivers/machine/vsphere/vm';
import { configFromEnv } from '../../functions/config';
import { machineKinds } from '../../statemachines/kinds';
import { type AmtMock, startAmtMock } from '../support/amt/wsman-mock';
import { Api } from '../support/api';
import { type Amm, startAmm } from '../support/bladecenter/amm';
import { postDiscovery, unique } from '../support/fixtures';
import { baseFiles, hostnameItems, makeExt4 } from '../support/images';
import { requireTool } from '../support/machines-host';
import { withLocalDiscovery } from '../support/site-lock';
import { stackDeps } from '../support/store';
import { startVcsim, type Vcsim } from '../support/vcsim/vcsim';

const api = Api.admin();
const run = promisify(execFile);
const config = configFromEnv(inject('stack').env);
const sfn = new SFNClient({
  region: config.region,
  endpoint: config.endpoints.stepfunctions,
  credentials: config.stepFunctionsCredentials,
});

/** The VMs (not templates) as the simulator holds them, read in a session of the test's own. */
async function allVms(sim: Vcsim) {
  const client = await VimClient.login(
    { url: sim.url, username: sim.username, password: sim.password, requestTimeoutMs: 10_000, taskTimeoutMs: 10_000 },
    'the test',
  );
  try {
    return (await client.inventory('VirtualMachine', VM_PROPERTIES)).map(vmFacts).filter((v) => !v.template);
  } finally {
    await client.logout();
  }
}

const vmNamed = async (sim: Vcsim, name: string) => (await allVms(sim)).find((v) => v.name === name);

interface PrivateLibvirtd {
  /** libvirt's test driver served by the daemon: its domains live as long as one connection is open. */
  uri: string;
  /** The test's own connection (one long-lived virsh), which keeps the domains and reads them. */
  virsh: Virsh;
  stop(): Promise<void>;
}

/**
 * A libvirtd of the test's own, unprivileged (as nobody when run as root), its sockets in a temp dir,
 * serving `test+unix:///default`. libvirt's test driver keeps its domains in the process that opened
 * it: here that is the daemon, so the agent's virsh calls and the test's see the same domains.
 */
async function startPrivateLibvirtd(): Promise<PrivateLibvirtd> {
  await requireTool('virsh', 'libvirt-clients');
  await requireTool('libvirtd', 'libvirt-daemon');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'encompass-libvirtd-'));
  await fs.chmod(dir, 0o755);
  const runtime = path.join(dir, 'run');
  const home = path.join(dir, 'home');
  for (const d of [runtime, home]) await fs.mkdir(d, { mode: 0o700 });
  const root = process.getuid?.() === 0;
  if (root) for (const d of [runtime, home]) await fs.chown(d, 65534, 65534);
  const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin', HOME: home, XDG_RUNTIME_DIR: runtime };
  const daemon = root
    ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'libvirtd'], { env, stdio: 'ignore' })
    : spawn('libvirtd', [], { env, stdio: 'ignore' });
  const socket = path.join(runtime, 'libvirt', 'libvirt-sock');
  const uri = `test+unix:///default?socket=${socket}`;
  const virsh = new Virsh('virsh', uri, 'the test', { shell: true });
  const stop = async () => {
    await closeVirshShells();
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (daemon.exitCode !== null) throw new Error(`libvirtd exited (${daemon.exitCode}) before it listened`);
      if (
        await fs.stat(socket).then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 150) throw new Error(`libvirtd did not make ${socket} within 15 s`);
      await sleep(100);
    }
    await virsh.run(['version']);
    return { uri, virsh, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** bladePowerState of a slot, asked of snmpd with Net-SNMP's own snmpget: 1 on, 0 off. */
async function bladePower(amm: Amm, slot: number): Promise<number> {
  const { stdout } = await run('snmpget', [
    ...['-v1', '-c', amm.community, '-r', '1', '-t', '2', '-Oqv'],
    `${amm.host}:${amm.port}`,
    `.1.3.6.1.4.1.2.3.51.2.22.1.5.1.1.4.${slot}`,
  ]);
  return Number(stdout.trim());
}

/** Whether `secret` shows anywhere a record, an operation or a workflow execution of `opIds` keeps. */
async function whereShown(secret: string, machine: string, opIds: string[]): Promise<string[]> {
  const found: string[] = [];
  const look = (place: string, text: string) => text.includes(secret) && found.push(place);
  look('GET machine', JSON.stringify((await api.get(`/v1/machines/${machine}`)).body));
  look('machine record', JSON.stringify(await stackDeps().machines.get(machine)));
  for (const id of opIds) {
    look(`GET operation ${id}`, JSON.stringify((await api.get(`/v1/operations/${id}`)).body));
    const op = await stackDeps().operations.get(id);
    look(`operation record ${id}`, JSON.stringify(op));
    if (op?.executionArn) {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn: op.executionArn }));
      look(`execution ${id}`, `${e.input}${e.output}`);
    }
  }
  look('audit', JSON.stringify((await api.get('/v1/audit')).body));
  return found;
}

/** Registers a machine and checks its credentials were stored as references only. */
async function register(body: Record<string, unknown>, secret: string) {
  const r = await api.post('/v1/machines', { name: unique(String(body['kind'])), site: 'local', ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const keys = Object.keys(body['credentials'] as object);
  expect(r.body.credentials).toEqual(Object.fromEntries(keys.map((k) => [k, '(set)'])));
  const stored = await stackDeps().machines.get(r.body.id);
  expect(stored?.credentials).toEqual(
    Object.fromEntries(keys.map((k) => [k, `secret://local/machines/${r.body.id}/${k}`])),
  );
  expect(JSON.stringify(r.body)).not.toContain(secret);
  return r.body as { id: string; name: string };
}

/**
 * Runs a clone of `master` through assign, attach, activate, deactivate, detach, unassign on
 * `machine`, calling `power` after activate ('on') and deactivate ('off'); answers the operations' ids.
 */
async function lifecycle(master: string, machine: string, power: (want: 'on' | 'off') => Promise<void>) {
  const name = unique('clone');
  const made = await api.run('/v1/clones', { master, name, method: 'copy' });
  expect(made.status, JSON.stringify(made)).toBe('succeeded');
  const clone = (await api.get(`/v1/clones/${name}`)).body;
  const ops: string[] = [made.id];
  const step = async (event: string, body: unknown = {}) => {
    const op = await api.run(`/v1/clones/${clone.id}/${event}`, body);
    expect(op.status, `${event}: ${JSON.stringify(op.error ?? op)}`).toBe('succeeded');
    ops.push(op.id);
  };
  await step('assign', { machine, customization: { variables: { hostname: name } } });
  await step('attach');
  await step('activate');
  expect((await api.get(`/v1/clones/${clone.id}`)).body).toMatchObject({ binding: 'active', machine });
  await power('on');
  await step('deactivate');
  await power('off');
  await step('detach');
  await step('unassign');
  await step('destroy');
  return ops;
}

describe('the paper’s machine kinds through the API', () => {
  let sim: Vcsim;
  let amm: Amm;
  let amt: AmtMock;
  let libvirtd: PrivateLibvirtd;
  let master: string;
  let repository: string;
  /** Machines the tests registered on the chassis: `blade-<slot>` → machine id. */
  const registered = new Map<string, string>();

  beforeAll(async () => {
    // One VM per host: the simulator gives the VMs of a host the same MAC.
    [sim, amm, amt] = await Promise.all([startVcsim({ vms: 1 }), startAmm({ slots: [1, 2] }), startAmtMock()]);
    libvirtd = await startPrivateLibvirtd();
    // One repository on the simulator's datastore: its settings.datastore is where ESX sees its files;
    // the other kinds reach the same clones as plain files.
    const sub = unique('ds');
    const repoDir = path.join(sim.datastore.dir, sub);
    await fs.mkdir(repoDir);
    const repo = await api.createRepository({
      name: unique('repo'),
      site: 'local',
      kind: 'file',
      path: repoDir,
      settings: { datastore: `[${sim.datastore.name}] ${sub}` },
    });
    expect(repo.body.status, JSON.stringify(repo.body)).toBe('ready');
    repository = repo.body.id;
    await makeExt4(path.join(repoDir, 'masters/base.img'), baseFiles);
    master = unique('master');
    const imported = await api.run('/v1/masters', {
      name: master,
      repository: repo.body.name,
      path: 'masters/base.img',
      customization: hostnameItems,
    });
    expect(imported.status, JSON.stringify(imported)).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    // The repository lies on the simulator's datastore, which goes with it.
    if (master) await api.del(`/v1/masters/${master}`);
    if (repository) await api.del(`/v1/repositories/${repository}`);
    await Promise.all([sim?.stop(), amm?.stop(), amt?.stop()]);
    await libvirtd?.stop();
  });

  it('vsphere: the VM is made from its template, powered on and off in the simulator', async () => {
    const vm = unique('encompass-vm');
    const m = await register(
      {
        kind: 'vsphere',
        settings: { endpoint: sim.url, vm, template: 'DC0_H0_VM0', shutdownGraceSeconds: 1 },
        credentials: { username: sim.username, password: sim.password },
      },
      sim.password,
    );
    registered.set('vsphere', m.id);
    const ops = await lifecycle(master, m.id, async (want) => {
      const facts = await vmNamed(sim, vm);
      expect(facts?.power).toBe(want === 'on' ? 'poweredOn' : 'poweredOff');
      if (want === 'on') expect(facts?.attached).toMatchObject({ machine: m.id });
    });
    expect((await vmNamed(sim, vm))?.attached).toBeUndefined();
    expect(await whereShown(sim.password, m.id, ops)).toEqual([]);
  });

  it('bladecenter: the blade in its slot is powered on and off in the chassis snmpd serves', async () => {
    const m = await register(
      {
        kind: 'bladecenter',
        settings: {
          amm: amm.host,
          snmpPort: amm.port,
          slot: 2,
          consoleLog: amm.consoleOf(2),
          bootTimeoutSeconds: 20,
          shutdownGraceSeconds: 2,
          powerConfirmSeconds: 10,
        },
        credentials: { community: amm.community },
        identity: { serial: (await amm.chassis()).blades[2]!.serial },
      },
      amm.community,
    );
    registered.set('blade-2', m.id);
    expect(await bladePower(amm, 2)).toBe(0);
    const ops = await lifecycle(master, m.id, async (want) => {
      expect(await bladePower(amm, 2)).toBe(want === 'on' ? 1 : 0);
      // The blade in slot 1 is not touched.
      expect(await bladePower(amm, 1)).toBe(0);
    });
    expect(await fs.readFile(amm.consoleOf(2), 'utf8')).toContain('ENCOMPASS-BOOTED');
    expect(await whereShown(amm.community, m.id, ops)).toEqual([]);
  });

  it('amt: the firmware (the WS-Man mock) is asked for power on and off with digest authentication', async () => {
    const m = await register(
      {
        kind: 'amt',
        settings: { host: amt.host, port: amt.port, shutdownGraceSeconds: 1, powerConfirmSeconds: 10 },
        credentials: { user: amt.user, password: amt.password },
      },
      amt.password,
    );
    const ops = await lifecycle(master, m.id, async (want) => {
      expect(amt.state.power).toBe(want === 'on' ? 2 : 8);
    });
    expect(amt.state.requests[0]).toBe(2);
    expect(amt.state.refused).toBe(0);
    expect(await whereShown(amt.password, m.id, ops)).toEqual([]);
  });

  it('xen: a PV domain is defined, started and shut off on libvirt’s test driver in a libvirtd (no real Xen host)', async () => {
    const password = `xen-${Math.random().toString(36).slice(2, 10)}`;
    const m = await register(
      {
        kind: 'xen',
        settings: {
          uri: libvirtd.uri,
          kernel: '/boot/vmlinuz-xen',
          cmdline: 'root=/dev/xvda ro',
          shutdownGraceSeconds: 0,
        },
        // The test driver asks for none; a credential still travels by reference only.
        credentials: { password },
      },
      password,
    );
    const domain = `encompass-${m.id}`;
    const ops = await lifecycle(master, m.id, async (want) => {
      expect((await libvirtd.virsh.run(['domstate', domain])).trim()).toBe(want === 'on' ? 'running' : 'shut off');
      expect(await libvirtd.virsh.dumpxml(domain)).toMatch(/<domain type='xen'[\s\S]*<target dev='xvda' bus='xen'\/>/);
    });
    // Detach undefined the domain.
    expect(await libvirtd.virsh.dumpxml(domain)).toBeUndefined();
    expect(await whereShown(password, m.id, ops)).toEqual([]);
  });

  it('discovers the VMs, blades and firmware of vsphere, bladecenter and amt seeds by identity; adopted, each is driven', async () => {
    const firmware = await startAmtMock();
    try {
      // The local site runs one discovery at a time, and other files discover it too.
      const { id, op } = await withLocalDiscovery(async () => {
        const r = await postDiscovery(api, {
          site: 'local',
          seeds: [
            { kind: 'vsphere', address: sim.url, credentials: { user: sim.username, password: sim.password } },
            { kind: 'bladecenter', address: `${amm.host}:${amm.port}`, credentials: { community: amm.community } },
            {
              kind: 'amt',
              address: `${firmware.host}:${firmware.port}`,
              credentials: { user: firmware.user, password: firmware.password },
            },
          ],
        });
        expect(r.status, JSON.stringify(r.body)).toBe(202);
        return { id: r.body.id as string, op: await api.wait(r.body.operation, 60_000) };
      });
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      const result = op.result;
      expect(result.seeds.map((s: { error?: unknown }) => s.error)).toEqual([undefined, undefined, undefined]);
      // The blade the earlier test registered with its serial is matched, not found again.
      expect(result.matched.map((m: { machine: string }) => m.machine)).toContain(registered.get('blade-2'));
      const found = await Promise.all(
        result.new.map(async (n: { machine: string }) => (await api.get(`/v1/machines/${n.machine}`)).body),
      );
      const ofKind = (kind: string) => found.filter((m) => m.kind === kind);

      // Every other VM of the simulator: by its BIOS UUID and MACs when its MACs are its own, else a
      // conflict (the simulator repeats MACs across its own VMs), never a new machine on such evidence.
      // The VM the vsphere machine registered earlier was cloned into at attach has MACs of its own and
      // a BIOS UUID the record does not hold: only its address (endpoint and name, 30) points at that
      // machine, under the 60 a match needs, so it is a conflict naming the machine, not a new one.
      const own = (await api.get(`/v1/machines/${registered.get('vsphere')}`)).body;
      const ownConflict = result.conflicts.find(
        (c: { observation: { name: string } }) => c.observation.name === own.settings.vm,
      );
      expect(ownConflict).toMatchObject({
        reason: 'ambiguous',
        candidates: [{ machine: own.id, score: 30, evidence: [expect.objectContaining({ type: 'address' })] }],
      });
      const vms = (await allVms(sim)).filter((vm) => vm.name !== own.settings.vm);
      const shared = (vm: (typeof vms)[number]) =>
        vms.some((other) => other !== vm && other.macs.some((mac) => vm.macs.includes(mac)));
      const byUuid = (a: { uuid?: string }, b: { uuid?: string }) => (a.uuid ?? '').localeCompare(b.uuid ?? '');
      expect(vms.filter((vm) => !shared(vm)).length).toBeGreaterThan(0);
      expect(
        ofKind('vsphere')
          .map((m) => ({ uuid: m.identity.uuid, macs: m.identity.macs, settings: m.settings }))
          .sort(byUuid),
      ).toEqual(
        vms
          .filter((vm) => !shared(vm))
          .map((vm) => ({ uuid: vm.uuid, macs: vm.macs, settings: { endpoint: sim.url, vm: vm.name } }))
          .sort(byUuid),
      );
      expect(
        result.conflicts
          .filter((c: { observation: { kind: string } }) => c.observation.kind === 'vsphere' && c !== ownConflict)
          .map((c: { reason: string; observation: { name: string } }) => [c.observation.name, c.reason])
          .sort(),
      ).toEqual(
        vms
          .filter(shared)
          .map((vm) => [vm.name, 'duplicate_identifier'])
          .sort(),
      );

      // The blade in slot 1 (slot 2 is registered), with its VPD serial and its MACs in lower case.
      const blade = (await amm.chassis()).blades[1]!;
      expect(ofKind('bladecenter').map((m) => ({ settings: m.settings, identity: m.identity }))).toEqual([
        {
          settings: { amm: amm.host, snmpPort: amm.port, slot: 1 },
          identity: expect.objectContaining({ serial: blade.serial, macs: blade.macs.map((m) => m.toLowerCase()) }),
        },
      ]);

      // The firmware: its UUID as the OS shows it (not AMT's byte order), its serial, MACs without dashes.
      expect(ofKind('amt').map((m) => ({ settings: m.settings, identity: m.identity }))).toEqual([
        {
          settings: { host: firmware.host, port: firmware.port },
          identity: expect.objectContaining({
            uuid: firmware.uuid,
            serial: firmware.serial,
            macs: ['00:1b:21:3c:4d:5e', '00:1b:21:3c:4d:5f'],
          }),
        },
      ]);

      for (const m of found) {
        expect(m.state).toBe('discovered');
        // A found machine uses the seed's credentials, by reference.
        expect(Object.keys(m.credentials ?? {}), `${m.kind} ${m.name}`).not.toEqual([]);
        for (const ref of Object.values((await stackDeps().machines.get(m.id))?.credentials ?? {}))
          expect(ref).toMatch(/^secret:\/\/local\/discovery\//);
      }
      const text = JSON.stringify(op) + JSON.stringify((await api.get(`/v1/discoveries/${id}`)).body);
      for (const secret of [sim.password, amm.community, firmware.password]) expect(text).not.toContain(secret);

      // Adopted (and told not to wait for a guest's shutdown), each found machine is driven with those credentials.
      const checks: Record<string, (m: { settings: Record<string, unknown> }, want: 'on' | 'off') => Promise<void>> = {
        vsphere: async (m, want) =>
          expect((await vmNamed(sim, String(m.settings['vm'])))?.power).toBe(
            want === 'on' ? 'poweredOn' : 'poweredOff',
          ),
        bladecenter: async (_m, want) => expect(await bladePower(amm, 1)).toBe(want === 'on' ? 1 : 0),
        amt: async (_m, want) => expect(firmware.state.power).toBe(want === 'on' ? 2 : 8),
      };
      for (const [kind, check] of Object.entries(checks)) {
        const m = ofKind(kind)[0];
        const adopted = await api.post(`/v1/machines/${m.id}/adopt`, { tags: ['found'] });
        expect(adopted.status, JSON.stringify(adopted.body)).toBe(200);
        expect(adopted.body).toMatchObject({ state: 'ready', tags: ['found'] });
        const patched = await api.patch(`/v1/machines/${m.id}`, { settings: { shutdownGraceSeconds: 1 } });
        expect(patched.status, JSON.stringify(patched.body)).toBe(200);
        await lifecycle(master, m.id, (want) => check(m, want));
      }
      expect(firmware.state.refused).toBe(0);
    } finally {
      await firmware.stop();
    }
  }, 300_000);
});

describe('registering a machine of the new kinds with bad input', () => {
  it('refuses an unknown kind with 400, naming the kinds it takes', async () => {
    const name = unique('m');
    const r = await api.post('/v1/machines', { name, site: 'local', kind: 'esx' });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    for (const kind of machineKinds) expect(JSON.stringify(r.body.error)).toContain(kind);
    expect((await api.get(`/v1/machines/${name}`)).status).toBe(404);
  });

  // What each kind's driver cannot reach its machine without (statemachines/kinds.ts requiredSettings)
  // is checked by the API: a machine attached before its driver failed on a missing setting could be
  // neither detached (the driver fails the same way) nor patched (409 machine_bound).
  it.each([
    ['bladecenter', { amm: '127.0.0.1' }, 'settings.slot'],
    ['bladecenter', { slot: 2 }, 'settings.amm'],
    ['ipmi', { port: 623 }, 'settings.host'],
    ['redfish', {}, 'settings.endpoint'],
    ['amt', {}, 'settings.host'],
    ['vsphere', { vm: 'x' }, 'settings.endpoint'],
  ])('refuses a %s machine without what its driver needs with 400, and writes nothing', async (kind, settings, key) => {
    const name = unique('m');
    const r = await api.post('/v1/machines', {
      name,
      site: 'local',
      kind,
      settings,
      credentials: { password: 'never-stored' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(JSON.stringify(r.body.error)).toContain(key);
    expect((await api.get(`/v1/machines/${name}`)).status).toBe(404);
  });

  it('refuses a patch that removes a required setting with 400, and keeps the machine as it was', async () => {
    const m = await register(
      { kind: 'amt', settings: { host: '127.0.0.1', port: 16992 }, credentials: { password: 'kept-out' } },
      'kept-out',
    );
    const r = await api.patch(`/v1/machines/${m.id}`, { settings: { host: null } });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(JSON.stringify(r.body.error)).toContain('settings.host: required for a machine of kind amt');
    expect((await api.get(`/v1/machines/${m.id}`)).body.settings).toEqual({ host: '127.0.0.1', port: 16992 });
    expect((await api.del(`/v1/machines/${m.id}`)).status).toBe(200);
  });
});
