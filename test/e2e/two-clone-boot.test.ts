/**
 * The proof of the whole path: a tiny bootable master is imported, cloned twice by two methods
 * (one onto iSCSI storage), each clone is customized with its own hostname offline, activated on a
 * real qemu machine (one booting through an iSCSI LUN that lets in only its initiator), and each
 * guest's console shows the hostname it was given.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QemuMachineDriver } from '../../edge-agent/drivers/machine/qemu/driver';
import { Api } from '../support/api';
import { bootKernel, makeBootableRoot } from '../support/bootable';
import { hostnameItems, unique } from '../support/fixtures';

const run = promisify(execFile);
const api = Api.admin();
const PORT = 3285;

describe('two customized clones boot on qemu machines, one through iSCSI', () => {
  let dir: string;
  let master: any;
  let iscsiRepo: any;
  const made: { clone: string; machine: any }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'encompass-boot-'));
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'nas/masters'), { recursive: true });
    await mkdir(join(dir, 'san'), { recursive: true });
    await makeBootableRoot(join(dir, 'nas/masters/boot.img'));
    const nas = await api.createRepository({
      name: unique('nas'),
      site: 'local',
      kind: 'file',
      path: join(dir, 'nas'),
    });
    iscsiRepo = (
      await api.createRepository({
        name: unique('san'),
        site: 'local',
        kind: 'iscsi',
        path: join(dir, 'san'),
        settings: {
          portal: `127.0.0.1:${PORT}`,
          iqnPrefix: 'iqn.2026-11.io.encompass.test',
          controlPort: PORT,
          manageTarget: true,
        },
      })
    ).body;
    expect(iscsiRepo.id).toBeDefined();
    const imported = await api.run('/v1/masters', {
      name: unique('boot'),
      repository: nas.body.name,
      path: 'masters/boot.img',
      customization: hostnameItems,
    });
    expect(imported.status, JSON.stringify(imported.error)).toBe('succeeded');
    master = (await api.get(`/v1/masters/${imported.result.master}`)).body;
  }, 120_000);

  afterAll(async () => {
    for (const m of made) {
      await api.run(`/v1/clones/${m.clone}/deactivate`).catch(() => undefined);
      await api.run(`/v1/clones/${m.clone}/detach`).catch(() => undefined);
    }
    // The agent leaves a target daemon it started running for the machines; the test stops it.
    await run('tgtadm', ['-C', String(PORT), '--lld', 'iscsi', '--op', 'delete', '--mode', 'system']).catch(
      () => undefined,
    );
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  const cases = [
    { label: 'a sparse copy on a file repository', method: 'sparse', onIscsi: false },
    { label: 'a SAN volume copy served as an iSCSI LUN', method: 'san', onIscsi: true },
  ];

  it.each(cases)(
    'boots $label with its own hostname',
    async ({ method, onIscsi }) => {
      const { kernel, initrd } = bootKernel();
      const hostname = unique('host');
      const name = unique('clone');
      const cloned = await api.run('/v1/clones', {
        master: master.id,
        name,
        method,
        ...(onIscsi ? { repository: iscsiRepo.id } : {}),
      });
      expect(cloned.status, JSON.stringify(cloned.error)).toBe('succeeded');
      expect(cloned.result.method).toBe(method);
      const machine = (
        await api.post('/v1/machines', {
          name: unique('vm'),
          site: 'local',
          kind: 'qemu',
          cpus: 1,
          memoryMiB: 512,
          identity: {
            macs: [`52:54:00:00:00:0${onIscsi ? '2' : '1'}`],
            ...(onIscsi ? { initiatorName: `iqn.2026-11.io.encompass.test:${hostname}` } : {}),
          },
          settings: { kernel, initrd, memoryMiB: 512, bootTimeoutSeconds: 240 },
        })
      ).body;
      made.push({ clone: name, machine });
      for (const [event, body] of [
        ['assign', { machine: machine.id, customization: { variables: { hostname } } }],
        ['attach', {}],
        ['activate', {}],
      ] as const) {
        const op = await api.run(`/v1/clones/${name}/${event}`, body);
        expect(op.status, `${event}: ${JSON.stringify(op.error)}`).toBe('succeeded');
      }
      const clone = (await api.get(`/v1/clones/${name}`)).body;
      expect(clone).toMatchObject({ metastate: 'operational', binding: 'active', bootCount: 1 });
      const qemu = new QemuMachineDriver({ stateDir: join(inject('stack').home, 'agent/state/qemu') });
      const console = await qemu.console({ ...machine, identity: machine.identity, settings: machine.settings });
      expect(console).toContain(`ENCOMPASS-HOSTNAME: ${hostname}`);
    },
    400_000,
  );
});
