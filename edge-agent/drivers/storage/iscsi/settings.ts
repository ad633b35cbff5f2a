/** The `settings` of an iscsi repository, checked, plus how images and initiators are named on the target. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Access, RepositoryRef } from '../interface';
import { InitiatorNameInvalidError, InitiatorNameRequiredError, IscsiSettingsError } from './errors';
import { isAddressEntry } from './tgtadm';

export interface IscsiSettings {
  /** `HOST:PORT` the target listens on and machines log in to. */
  portal: string;
  iqnPrefix: string;
  /** tgtd's control port (`-C`): one per tgtd when several run side by side. */
  controlPort: number;
  /** Start tgtd when none answers on the control port, and keep it as a child. */
  manageTarget: boolean;
}

/** iSCSI names are at most 223 bytes (RFC 3720). */
export const MAX_ISCSI_NAME = 223;
const IQN_PREFIX = /^iqn\.\d{4}-\d{2}\.[a-z0-9][a-z0-9.-]*(:[a-z0-9.:-]*)?$/;
const PORTAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[\da-fA-F:.]+\]):(\d{1,5})$/;
/** Length of the path hash that keeps lossy or shortened target names apart. */
const HASH_CHARS = 12;

export function parseSettings(repo: RepositoryRef): IscsiSettings {
  const s = repo.settings ?? {};
  const bad = (problem: string) => new IscsiSettingsError(repo.id, problem);
  const portal = s['portal'];
  const m = typeof portal === 'string' ? PORTAL.exec(portal) : null;
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw bad(`portal ${JSON.stringify(portal)} is not IP:PORT`);
  const iqnPrefix = s['iqnPrefix'];
  if (
    typeof iqnPrefix !== 'string' ||
    !IQN_PREFIX.test(iqnPrefix) ||
    iqnPrefix.length > MAX_ISCSI_NAME - HASH_CHARS - 2
  ) {
    throw bad(`iqnPrefix ${JSON.stringify(iqnPrefix)} is not a lowercase iqn.YYYY-MM.domain[:name] name`);
  }
  const controlPort = s['controlPort'] ?? 0;
  if (typeof controlPort !== 'number' || !Number.isInteger(controlPort) || controlPort < 0) {
    throw bad(`controlPort ${JSON.stringify(controlPort)} is not an integer >= 0`);
  }
  const manageTarget = s['manageTarget'] ?? false;
  if (typeof manageTarget !== 'boolean') throw bad(`manageTarget ${JSON.stringify(manageTarget)} is not true or false`);
  return { portal: portal as string, iqnPrefix, controlPort, manageTarget };
}

/**
 * The target name of an image: `<iqnPrefix>:<path>` with `/` as `:`, lowercase. When that loses
 * information (other characters, upper case) or is too long, a hash of the path keeps names apart.
 */
export function targetName(iqnPrefix: string, repoPath: string, abs: string): string {
  const rel = path.relative(path.resolve(repoPath), abs).split(path.sep).join('/');
  const readable = rel
    .toLowerCase()
    .replace(/[^a-z0-9./-]/g, '-')
    .replaceAll('/', ':');
  const room = MAX_ISCSI_NAME - iqnPrefix.length - 1;
  const lossless = /^[a-z0-9./-]+$/.test(rel);
  if (lossless && readable.length <= room) return `${iqnPrefix}:${readable}`;
  const hash = createHash('sha256').update(rel).digest('hex').slice(0, HASH_CHARS);
  return `${iqnPrefix}:${readable.slice(0, room - HASH_CHARS - 1)}-${hash}`;
}

/** SCSI id and serial derived from the target name, so a LUN re-created after a tgtd restart looks like the same disk. */
export function lunIdentity(target: string): { scsiId: string; scsiSn: string } {
  const hash = createHash('sha256').update(target).digest('hex');
  return { scsiId: `enc-${hash.slice(0, 16)}`, scsiSn: hash.slice(16, 32) };
}

/** The initiator name an access logs in with; refuses a missing or malformed one. */
export function initiatorOf(access: Access): string {
  const name = access.initiatorName;
  if (name === undefined || name === '') throw new InitiatorNameRequiredError(access.machine);
  if (/\s/.test(name) || Buffer.byteLength(name) > MAX_ISCSI_NAME || isAddressEntry(name)) {
    throw new InitiatorNameInvalidError(access.machine, name);
  }
  return name;
}
