/**
 * A tiny bootable master for machine tests: an ext4 image holding a static busybox and an `/init`
 * that reports the machine's identity (and `/etc/version`, when the image has one) on the serial
 * console, then stays up until the ACPI power button is pressed (or `encompass.uptime=SECONDS` on
 * the kernel command line runs out).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BootKernel {
  kernel: string;
  initrd: string;
  /** The kernel release, e.g. `6.1.0-56-amd64`; names its module directory. */
  version: string;
}

/** The console line printed once the guest reached userspace; a machine's default boot marker. */
export const BOOTED_MARKER = 'ENCOMPASS-BOOTED';

/** The Debian kernel and its stock initrd under /boot (the newest when there are several). */
export function bootKernel(): BootKernel {
  const versions = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((f) => f.startsWith('vmlinuz-') && existsSync(join('/boot', `initrd.img-${f.slice(8)}`)))
        .map((f) => f.slice(8))
        .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    : [];
  const version = versions.at(-1);
  if (!version) {
    throw new Error(
      'No kernel with an initrd under /boot: machine boot tests need one. Install it with `apt-get install -y linux-image-amd64`.',
    );
  }
  return { kernel: `/boot/vmlinuz-${version}`, initrd: `/boot/initrd.img-${version}`, version };
}

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'mount', 'cat', 'grep', 'insmod', 'acpid', 'sleep', 'sync', 'poweroff', 'ls'];
/** Loaded in the guest so busybox acpid sees the power button (QMP system_powerdown). */
const MODULES = ['kernel/drivers/input/evdev.ko', 'kernel/drivers/acpi/button.ko'];

const INIT = `#!/bin/sh
export PATH=/bin
grep -q " /proc " /proc/mounts 2>/dev/null || mount -t proc proc /proc
grep -q " /sys " /proc/mounts || mount -t sysfs sysfs /sys
for m in /lib/modules/*.ko; do insmod "$m" 2>/dev/null; done
acpid -f -l /dev/null &
uptime=600
for arg in $(cat /proc/cmdline); do
  case "$arg" in encompass.uptime=*) uptime="\${arg#*=}" ;; esac
done
echo "ENCOMPASS-HOSTNAME: $(cat /etc/hostname)"
echo "ENCOMPASS-UUID: $(cat /sys/class/dmi/id/product_uuid 2>/dev/null)"
echo "ENCOMPASS-SERIAL: $(cat /sys/class/dmi/id/product_serial 2>/dev/null)"
echo "ENCOMPASS-MACS: $(cat /sys/class/net/e*/address 2>/dev/null)"
[ -f /etc/version ] && echo "ENCOMPASS-VERSION: $(cat /etc/version)"
sleep 1
echo ${BOOTED_MARKER}
sleep "$uptime"
/etc/acpi/PWRF/00000080
`;

const POWER_BUTTON = `#!/bin/sh
echo ENCOMPASS-POWERING-OFF > /dev/console
sync
mount -o remount,ro / 2>/dev/null
poweroff -f
`;

/**
 * Writes a bootable ext4 image of `sizeMiB` (default 32) at `imagePath`, with /etc/hostname
 * `template`; `files` (path in the image → content) are written last, e.g. `{'etc/version': '2\n'}`.
 */
export async function makeBootableRoot(
  imagePath: string,
  opts: { sizeMiB?: number; files?: Record<string, string> } = {},
): Promise<void> {
  if (!existsSync(BUSYBOX)) {
    throw new Error(
      `${BUSYBOX} is missing: bootable test masters need a static busybox. Install it with \`apt-get install -y busybox-static\`.`,
    );
  }
  const { version } = bootKernel();
  const root = await mkdtemp(join(tmpdir(), 'encompass-bootable-'));
  try {
    for (const dir of ['bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'var/run', 'lib/modules', 'etc/acpi/PWRF']) {
      await mkdir(join(root, dir), { recursive: true });
    }
    await copyFile(BUSYBOX, join(root, 'bin/busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    for (const mod of MODULES) {
      const from = join('/lib/modules', version, mod);
      if (existsSync(from)) await copyFile(from, join(root, 'lib/modules', mod.split('/').at(-1) as string));
    }
    await writeExecutable(join(root, 'init'), INIT);
    await writeExecutable(join(root, 'etc/acpi/PWRF/00000080'), POWER_BUTTON);
    await writeFile(join(root, 'etc/hostname'), 'template\n');
    await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 template\n');
    for (const [path, content] of Object.entries(opts.files ?? {})) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    await mkdir(dirname(imagePath), { recursive: true });
    await run('mkfs.ext4', ['-q', '-F', '-d', root, imagePath, `${opts.sizeMiB ?? 32}M`]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function writeExecutable(file: string, text: string): Promise<void> {
  await writeFile(file, text);
  await chmod(file, 0o755);
}
