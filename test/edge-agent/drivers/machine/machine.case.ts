/**
 * Behaviour every MachineDriver shares: the attach / power on / power off / detach cycle, its
 * preconditions, one call at a time per machine, and the optional capabilities a driver declares.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DiskRef,
  hasConsole,
  hasIdentity,
  type MachineDriver,
  type MachineRef,
} from '../../../../edge-agent/drivers/machine/interface';

/**
 * A temp dir for a driver's tests: `stateDir`, the disk the machine boots (`clone.img`, 4 KiB), a
 * disk of another machine (`other`: a file beside it, or an iSCSI LUN that nothing serves) and one
 * that does not exist.
 */
export async function machineWorkspace(kind: string, other: 'file' | 'iscsi' = 'file') {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `encompass-${kind}-`));
  const disk: DiskRef = { kind: 'file', path: path.join(dir, 'clone.img'), format: 'raw' };
  const otherDisk: DiskRef =
    other === 'file'
      ? { kind: 'file', path: path.join(dir, 'other.img'), format: 'raw' }
      : { kind: 'iscsi', portal: '127.0.0.1:3260', target: 'iqn.2026-11.test:other', lun: 1, format: 'raw' };
  await fs.writeFile(disk.path, Buffer.alloc(4096));
  if (otherDisk.kind === 'file') await fs.writeFile(otherDisk.path, Buffer.alloc(4096));
  const missingDisk: DiskRef = { ...disk, path: path.join(dir, 'missing.img') };
  return { dir, stateDir: path.join(dir, 'state'), disk, otherDisk, missingDisk };
}

export interface MachineFixture {
  driver: MachineDriver;
  /** A machine that is off with no disk attached. */
  machine: MachineRef;
  /** The optional capabilities the driver offers. */
  offers: { console: boolean; identity: boolean };
  /** Two distinct existing disk images the machine can reach; `disk` is a file. */
  disk: DiskRef;
  otherDisk: DiskRef;
  /** A disk path where no image exists. */
  missingDisk: DiskRef;
  cleanup(): Promise<void>;
}

/**
 * The fixture of a driver that reaches its machine over a management wire (a BMC, a firmware, an
 * AMM): a workspace, the machine powered off first, and a cleanup that powers it off and removes
 * the workspace.
 */
export async function offMachineFixture(
  workspace: Awaited<ReturnType<typeof machineWorkspace>>,
  driver: MachineDriver,
  machine: MachineRef,
): Promise<MachineFixture> {
  await driver.powerOff(machine);
  return {
    ...workspace,
    driver,
    machine,
    offers: { console: true, identity: true },
    cleanup: async () => {
      await driver.powerOff(machine);
      await fs.rm(workspace.dir, { recursive: true, force: true });
    },
  };
}

export function describeMachineConformance(name: string, makeDriverAndMachine: () => Promise<MachineFixture>): void {
  describe(`machine driver ${name}`, () => {
    let f: MachineFixture;
    let driver: MachineDriver;
    let machine: MachineRef;

    beforeEach(async () => {
      f = await makeDriverAndMachine();
      ({ driver, machine } = f);
    });
    afterEach(async () => f.cleanup());

    it('starts off with no disk', async () => {
      const status = await driver.status(machine);
      expect(status.power).toBe('off');
      expect(status.disk).toBeUndefined();
    });

    it('goes through attach, power on, power off and detach', async () => {
      const { bootCount: before } = await driver.status(machine);
      await driver.attach(machine, f.disk);
      expect(await driver.status(machine)).toMatchObject({ power: 'off', disk: f.disk });

      expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: before + 1 });
      expect(await driver.status(machine)).toMatchObject({ power: 'on', disk: f.disk, bootCount: before + 1 });

      expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
      await driver.detach(machine);
      expect(await driver.status(machine)).toEqual({ power: 'off', bootCount: before + 1 });
    });

    it('treats attaching the same disk again as done', async () => {
      await driver.attach(machine, f.disk);
      await driver.attach(machine, f.disk);
      expect((await driver.status(machine)).disk).toEqual(f.disk);
    });

    it('refuses a second, different disk and keeps the first', async () => {
      await driver.attach(machine, f.disk);
      await expect(driver.attach(machine, f.otherDisk)).rejects.toMatchObject({
        name: 'AlreadyAttachedError',
        code: 'already_attached',
      });
      expect((await driver.status(machine)).disk).toEqual(f.disk);
    });

    it('refuses a disk that does not exist and attaches nothing', async () => {
      await expect(driver.attach(machine, f.missingDisk)).rejects.toMatchObject({
        name: 'DiskNotFoundError',
        code: 'disk_not_found',
      });
      expect((await driver.status(machine)).disk).toBeUndefined();
    });

    it('refuses to power on without a disk and stays off', async () => {
      await expect(driver.powerOn(machine)).rejects.toMatchObject({ name: 'NoDiskError', code: 'no_disk' });
      expect((await driver.status(machine)).power).toBe('off');
    });

    it('refuses to detach while powered on and keeps the disk', async () => {
      await driver.attach(machine, f.disk);
      await driver.powerOn(machine);
      await expect(driver.detach(machine)).rejects.toMatchObject({ name: 'PoweredOnError', code: 'powered_on' });
      expect(await driver.status(machine)).toMatchObject({ power: 'on', disk: f.disk });
    });

    it('does not boot a second time when powered on while on', async () => {
      await driver.attach(machine, f.disk);
      const first = await driver.powerOn(machine);
      expect(await driver.powerOn(machine)).toEqual({ power: 'on', booted: true, bootCount: first.bootCount });
    });

    it('treats powering off while off, and detaching with no disk, as done', async () => {
      expect(await driver.powerOff(machine)).toEqual({ power: 'off' });
      await driver.detach(machine);
      expect((await driver.status(machine)).power).toBe('off');
    });

    it('refuses to power on when the attached disk has since disappeared, and stays off', async () => {
      await driver.attach(machine, f.disk);
      if (f.disk.kind !== 'file') throw new Error('the fixture disk must be a file');
      await fs.rm(f.disk.path);
      await expect(driver.powerOn(machine)).rejects.toMatchObject({
        name: 'DiskNotFoundError',
        code: 'disk_not_found',
      });
      expect((await driver.status(machine)).power).toBe('off');
    });

    it('boots once when asked to power on twice at the same time', async () => {
      const { bootCount: before } = await driver.status(machine);
      await driver.attach(machine, f.disk);
      const outcomes = await Promise.all([driver.powerOn(machine), driver.powerOn(machine)]);
      expect(outcomes.map((o) => o.bootCount)).toEqual([before + 1, before + 1]);
      expect((await driver.status(machine)).bootCount).toBe(before + 1);
    });

    it('offers the optional capabilities it declares, and each of them answers', async () => {
      expect({ console: hasConsole(driver), identity: hasIdentity(driver) }).toEqual(f.offers);
      // A console is this power-on's text, or a no_console error for a machine whose settings name no log.
      if (hasConsole(driver))
        expect(
          await driver.console(machine).then(
            (t) => typeof t,
            (e) => e.code,
          ),
        ).toMatch(/^(string|no_console)$/);
      if (hasIdentity(driver)) {
        const { uuid, macs = [] } = await driver.identity(machine);
        if (uuid !== undefined) expect(uuid).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/);
        for (const mac of macs) expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      }
    });

    it('accepts another disk once the first is detached', async () => {
      await driver.attach(machine, f.disk);
      await driver.detach(machine);
      await driver.attach(machine, f.otherDisk);
      expect((await driver.status(machine)).disk).toEqual(f.otherDisk);
    });
  });
}
