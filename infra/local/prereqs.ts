import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { PrerequisitesMissingError } from './errors';

export interface Prerequisite {
  name: string;
  check: () => Promise<boolean>;
  /** The command that installs it on Debian/Ubuntu. */
  install: string;
  /** The Debian package; when absent it is read from the end of `install`. */
  debianPackage?: string;
}

const MIN_JAVA = 17;

/** Runs a command and hands back stdout+stderr, or undefined when it cannot run at all. */
function run(command: string, args: string[]): Promise<{ code: number; output: string } | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') return resolve(undefined);
      const code = !err ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The absolute path of an executable on PATH, also looking in the sbin directories a non-root PATH omits. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The major version in `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_392"` → 8. */
export function javaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

async function javaIsRecentEnough(): Promise<boolean> {
  const result = await run('java', ['-version']);
  const major = result && result.code === 0 ? javaMajorVersion(result.output) : undefined;
  return major !== undefined && major >= MIN_JAVA;
}

async function runs(name: string, args: string[]): Promise<boolean> {
  const path = await findExecutable(name);
  if (!path) return false;
  const result = await run(path, args);
  return result?.code === 0;
}

export const prerequisites: Prerequisite[] = [
  {
    name: `java ${MIN_JAVA}+ (runs DynamoDB Local)`,
    check: javaIsRecentEnough,
    install: 'apt-get install -y openjdk-17-jre-headless',
    debianPackage: 'openjdk-17-jre-headless',
  },
  {
    name: 'debugfs (edits ext4 images offline)',
    check: () => runs('debugfs', ['-V']),
    install: 'apt-get install -y e2fsprogs',
    debianPackage: 'e2fsprogs',
  },
  {
    name: 'setpriv (ties DynamoDB Local and workerd to the life of the stack)',
    check: () => runs('setpriv', ['--version']),
    install: 'apt-get install -y util-linux',
    debianPackage: 'util-linux',
  },
  {
    name: 'unshare and ip (run DynamoDB Local in a network namespace of its own, off every interface)',
    check: async () => (await runs('unshare', ['--version'])) && (await runs('ip', ['-V'])),
    install: 'apt-get install -y util-linux iproute2',
  },
  {
    name: 'qemu-img (creates and converts disk images)',
    check: () => runs('qemu-img', ['--version']),
    install: 'apt-get install -y qemu-utils',
    debianPackage: 'qemu-utils',
  },
];

/**
 * Tools only some kinds need: the stack starts without them, and a task that needs one fails with
 * `tool_missing`, naming its package. `npm start` lists the ones missing here.
 */
export interface OptionalTool {
  tool: string;
  /** What needs it. */
  for: string;
  debianPackage: string;
}

export const optionalTools: OptionalTool[] = [
  { tool: 'qemu-system-x86_64', for: 'qemu machines', debianPackage: 'qemu-system-x86' },
  { tool: 'virsh', for: 'libvirt and xen machines, libvirt discovery', debianPackage: 'libvirt-clients' },
  { tool: 'ipmitool', for: 'ipmi machines and discovery', debianPackage: 'ipmitool' },
  { tool: 'tgtd', for: 'iscsi repositories', debianPackage: 'tgt' },
  { tool: 'ntfs-3g', for: 'customizing NTFS (Windows) clones', debianPackage: 'ntfs-3g' },
  { tool: 'hivexregedit', for: 'registry items of Windows customizations', debianPackage: 'libwin-hivex-perl' },
];

export async function missingOptionalTools(): Promise<OptionalTool[]> {
  const found = await Promise.all(optionalTools.map((t) => findExecutable(t.tool)));
  return optionalTools.filter((_, i) => !found[i]);
}

/** What the missing ones are for, and one apt-get line; empty when nothing is missing. */
export function formatOptional(missing: OptionalTool[]): string {
  if (missing.length === 0) return '';
  return [
    'Not installed here, and needed only by some kinds:',
    ...missing.map((t) => `  - ${t.tool}: ${t.for}`),
    `Install them with: sudo apt-get install -y ${[...new Set(missing.map((t) => t.debianPackage))].join(' ')}`,
  ].join('\n');
}

export async function missingPrerequisites(): Promise<Prerequisite[]> {
  const present = await Promise.all(prerequisites.map((p) => p.check().catch(() => false)));
  return prerequisites.filter((_, i) => !present[i]);
}

function packagesOf(p: Prerequisite): string[] {
  if (p.debianPackage) return [p.debianPackage];
  const match = /apt-get\s+install\s+(.*)$/.exec(p.install);
  return (match?.[1] ?? '').split(/\s+/).filter((word) => word && !word.startsWith('-'));
}

/** One message: what is missing, and the single apt-get line that installs all of it. */
export function formatMissing(missing: Prerequisite[]): string {
  if (missing.length === 0) return 'All prerequisites of the local stack are installed.';
  const packages = [...new Set(missing.flatMap(packagesOf))];
  return [
    'The local stack needs tools that are not installed on this host:',
    ...missing.map((p) => `  - ${p.name}`),
    'Install them all with:',
    `  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`,
  ].join('\n');
}

/** Throws PrerequisitesMissingError (its message from formatMissing) when anything is missing. */
export async function assertPrerequisites(): Promise<void> {
  const missing = await missingPrerequisites();
  if (missing.length > 0) {
    throw new PrerequisitesMissingError(
      missing.map((p) => p.name),
      formatMissing(missing),
    );
  }
}
