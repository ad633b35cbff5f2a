/** A typed wrapper over `tgtadm`, the control client of a userspace tgt iSCSI target (tgtd). */
import { execFile } from 'node:child_process';
import { ToolMissingError } from '../../errors';
import { TargetUnreachableError, TgtadmError } from './errors';

/** tgtadm's exit code when no tgtd listens on the control socket (ENOTCONN). */
const NOT_CONNECTED = 107;
const TIMEOUT_MS = 15_000;

export interface TgtLun {
  lun: number;
  type: string;
  /** null for the controller LUN 0 (tgt prints `None`). */
  backingPath: string | null;
}

/** A logged-in initiator (an I_T nexus). */
export interface TgtSession {
  nexus: number;
  initiator: string;
  addresses: string[];
}

export interface TgtTarget {
  tid: number;
  name: string;
  luns: TgtLun[];
  sessions: TgtSession[];
  /** ACL entries as tgt lists them: initiator names and initiator addresses mixed. */
  acl: string[];
}

export class Tgtadm {
  constructor(readonly controlPort: number) {}

  run(args: string[]): Promise<string> {
    const full = ['-C', String(this.controlPort), '--lld', 'iscsi', ...args];
    return new Promise((resolve, reject) => {
      execFile('tgtadm', full, { timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as { code?: unknown }).code;
        if (code === 'ENOENT') return reject(new ToolMissingError('tgtadm', 'tgt', { cause: err }));
        if (code === NOT_CONNECTED) return reject(new TargetUnreachableError(this.controlPort, { cause: err }));
        const message = stderr.trim().replace(/^tgtadm: /, '');
        reject(new TgtadmError(full, typeof code === 'number' ? code : -1, message, { cause: err }));
      });
    });
  }

  async showTargets(): Promise<TgtTarget[]> {
    return parseTargets(await this.run(['--op', 'show', '--mode', 'target']));
  }

  /** Portals tgtd listens on, as `HOST:PORT` (IPv6 hosts in brackets). */
  async portals(): Promise<string[]> {
    const out = await this.run(['--op', 'show', '--mode', 'portal']);
    return [...out.matchAll(/^Portal: (\S+),\d+$/gm)].map((m) => m[1]!);
  }

  newTarget(tid: number, name: string): Promise<string> {
    return this.run(['--op', 'new', '--mode', 'target', '--tid', String(tid), '--targetname', name]);
  }

  /** Without `force`, tgtd refuses while a session is logged in. */
  deleteTarget(tid: number, force = false): Promise<string> {
    return this.run(['--op', 'delete', '--mode', 'target', '--tid', String(tid), ...(force ? ['--force'] : [])]);
  }

  newLun(tid: number, lun: number, backingPath: string): Promise<string> {
    return this.run([...lunOp('new', tid, lun), '--backing-store', backingPath]);
  }

  /** Sets the SCSI identifiers a LUN reports (tgt derives them from the tid otherwise). */
  setLunIdentity(tid: number, lun: number, scsiId: string, scsiSn: string): Promise<string> {
    return this.run([...lunOp('update', tid, lun), '--params', `scsi_id=${scsiId},scsi_sn=${scsiSn}`]);
  }

  /** A name ACL. (`--initiator-address`/`-I` is an address ACL: given an IQN it matches no one.) */
  bindInitiatorName(tid: number, name: string): Promise<string> {
    return this.run(['--op', 'bind', '--mode', 'target', '--tid', String(tid), '--initiator-name', name]);
  }

  unbindInitiatorName(tid: number, name: string): Promise<string> {
    return this.run(['--op', 'unbind', '--mode', 'target', '--tid', String(tid), '--initiator-name', name]);
  }

  unbindInitiatorAddress(tid: number, address: string): Promise<string> {
    return this.run(['--op', 'unbind', '--mode', 'target', '--tid', String(tid), '--initiator-address', address]);
  }

  /** Stops tgtd; it refuses while any target exists. */
  deleteSystem(): Promise<string> {
    return this.run(['--op', 'delete', '--mode', 'system']);
  }
}

function lunOp(op: string, tid: number, lun: number): string[] {
  return ['--op', op, '--mode', 'logicalunit', '--tid', String(tid), '--lun', String(lun)];
}

/** Address ACL entries: `ALL`, IPv4 or IPv6, optionally with a prefix length. Everything else is a name. */
export function isAddressEntry(entry: string): boolean {
  return entry === 'ALL' || /^[\d.]+(\/\d+)?$/.test(entry) || /^[\da-f:]*:[\da-f:.]*(\/\d+)?$/i.test(entry);
}

type Section = 'system' | 'nexus' | 'lun' | 'account' | 'acl' | 'other';

const SECTIONS: Record<string, Section> = {
  'System information:': 'system',
  'I_T nexus information:': 'nexus',
  'LUN information:': 'lun',
  'Account information:': 'account',
  'ACL information:': 'acl',
};

/** Parses `tgtadm --op show --mode target`. */
export function parseTargets(text: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let target: TgtTarget | undefined;
  let section: Section = 'other';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^Target (\d+): (.+)$/.exec(raw);
    if (head) {
      target = { tid: Number(head[1]), name: head[2]!.trim(), luns: [], sessions: [], acl: [] };
      targets.push(target);
      section = 'other';
      continue;
    }
    if (!target || line === '') continue;
    if (line in SECTIONS) {
      section = SECTIONS[line]!;
      continue;
    }
    const [key, value = ''] = splitField(line);
    if (section === 'nexus') {
      if (key === 'I_T nexus') target.sessions.push({ nexus: Number(value), initiator: '', addresses: [] });
      const session = target.sessions.at(-1);
      if (session && key === 'Initiator') session.initiator = value.split(/\s+/)[0] ?? '';
      if (session && key === 'IP Address') session.addresses.push(value);
    } else if (section === 'lun') {
      if (key === 'LUN') target.luns.push({ lun: Number(value), type: '', backingPath: null });
      const lun = target.luns.at(-1);
      if (lun && key === 'Type') lun.type = value;
      if (lun && key === 'Backing store path') lun.backingPath = value === 'None' || value === '' ? null : value;
    } else if (section === 'acl') {
      target.acl.push(line);
    }
  }
  return targets;
}

function splitField(line: string): [string, string?] {
  const at = line.indexOf(': ');
  if (at < 0) return [line.replace(/:$/, '')];
  return [line.slice(0, at), line.slice(at + 2).trim()];
}
