/**
 * SNMP to a BladeCenter AMM with npm `net-snmp`: one session per driver call, closed after it. The
 * community string or the SNMPv3 keys live only in the session object, in memory; no message holds them.
 */
import snmp, { type Session, type Varbind } from 'net-snmp';
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import {
  AmmRefusedError,
  AmmRequestError,
  AmmUnreachableError,
  BLADECENTER_SETTINGS,
  BladeCenterCredentialsMissingError,
} from './errors';

export type SnmpVersion = '1' | '2c' | '3';

export interface SnmpTarget {
  host: string;
  port: number;
  version: SnmpVersion;
  /** SNMPv1/v2c. */
  community?: string;
  /** SNMPv3: the user, its authentication password and, for authPriv, its privacy password. */
  user?: { name: string; authKey: string; authProtocol: 'sha' | 'md5'; privKey?: string; privProtocol: 'aes' | 'des' };
  timeoutMs: number;
  retries: number;
}

/**
 * The SNMP target a blade's settings and credentials name: `credentials.community` (SNMPv1 unless
 * settings.snmpVersion says 2c), or `credentials.user` + `credentials.password` (+ `privPassword`)
 * for SNMPv3.
 */
export function snmpTarget(machine: MachineRef): SnmpTarget {
  const s = new SettingsReader(machine, BLADECENTER_SETTINGS);
  const host = s.string('amm');
  const port = s.number('snmpPort', 161, 1, 65535);
  const timeoutMs = s.seconds('timeoutSeconds', 5, 120);
  const retries = s.number('retries', 1, 0, 10);
  const community = credential(machine, 'community');
  const name = credential(machine, 'user');
  const fallback: SnmpVersion = community || !name ? '1' : '3';
  const version = s.oneOf<SnmpVersion>('snmpVersion', ['1', '2c', '3'], fallback);
  if (version !== '3') {
    if (!community) throw new BladeCenterCredentialsMissingError(machine.id, 'credentials.community');
    return { host, port, version, community, timeoutMs, retries };
  }
  const authKey = credential(machine, 'password');
  if (!name || !authKey)
    throw new BladeCenterCredentialsMissingError(machine.id, 'credentials.user and credentials.password (SNMPv3)');
  const privKey = credential(machine, 'privPassword');
  const user = {
    name,
    authKey,
    authProtocol: s.oneOf('authProtocol', ['sha', 'md5'], 'sha'),
    privProtocol: s.oneOf('privProtocol', ['aes', 'des'], 'aes'),
    ...(privKey ? { privKey } : {}),
  };
  return { host, port, version, user, timeoutMs, retries };
}

function openSession(t: SnmpTarget): Session {
  const options = {
    port: t.port,
    retries: t.retries,
    timeout: t.timeoutMs,
    version: t.version === '2c' ? snmp.Version2c : snmp.Version1,
  };
  if (t.version !== '3') return snmp.createSession(t.host, t.community ?? '', options);
  const u = t.user!;
  return snmp.createV3Session(
    t.host,
    {
      name: u.name,
      level: u.privKey ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
      authProtocol: snmp.AuthProtocols[u.authProtocol],
      authKey: u.authKey,
      ...(u.privKey ? { privProtocol: snmp.PrivProtocols[u.privProtocol], privKey: u.privKey } : {}),
    },
    { ...options, version: snmp.Version3 },
  );
}

/** An SNMP value as the driver reads it: a number, a trimmed string, or undefined for no such object. */
export type SnmpValue = number | string | undefined;

/** The AMM of one chassis, asked on behalf of `who` (a machine id or a seed). */
export class AmmSnmp {
  readonly amm: string;

  constructor(
    private readonly who: string,
    private readonly target: SnmpTarget,
  ) {
    this.amm = `${target.host}:${target.port}`;
  }

  /** The values of `oids`, in order; an object the AMM does not have is undefined. */
  async get(oids: string[], what: string): Promise<SnmpValue[]> {
    const varbinds = await this.call(what, (session, cb) => session.get(oids, cb));
    return varbinds.map((vb) => {
      if (snmp.isVarbindError(vb)) return undefined;
      if (Buffer.isBuffer(vb.value)) return vb.value.toString('latin1').replace(/\0+$/, '').trim();
      return vb.value ?? undefined;
    });
  }

  /** Sets an INTEGER object. */
  async setInteger(oid: string, value: number, what: string): Promise<void> {
    const varbinds = await this.call(what, (session, cb) =>
      session.set([{ oid, type: snmp.ObjectType.Integer, value }], cb),
    );
    const bad = varbinds.find((vb) => snmp.isVarbindError(vb));
    if (bad) throw new AmmRequestError(this.who, this.amm, what, snmp.varbindError(bad));
  }

  private call(
    what: string,
    run: (session: Session, cb: (error: Error | null, varbinds: Varbind[]) => void) => void,
  ): Promise<Varbind[]> {
    const session = openSession(this.target);
    return new Promise<Varbind[]>((resolve, reject) => {
      session.on('error', (err) => reject(this.failure(what, err)));
      try {
        run(session, (err, varbinds) => (err ? reject(this.failure(what, err)) : resolve(varbinds)));
      } catch (err) {
        reject(this.failure(what, err as Error));
      }
    }).finally(() => session.close());
  }

  private failure(what: string, err: Error): Error {
    const t = this.target;
    const seconds = (t.timeoutMs / 1000) * (t.retries + 1);
    if (err.name === 'RequestTimedOutError')
      return new AmmUnreachableError(this.who, this.amm, seconds, silenceCheck(t), { cause: err });
    const refusal = refusalCheck(t, err.message);
    if (refusal) return new AmmRefusedError(this.who, this.amm, err.message, refusal, { cause: err });
    return new AmmRequestError(this.who, this.amm, what, err.message, { cause: err });
  }
}

const WHERE = 'Check settings.amm and settings.snmpPort, that SNMP is enabled on the AMM and that UDP reaches it';

/** What to check when the AMM stays silent: it does not answer a wrong community, nor a request it cannot decrypt. */
function silenceCheck(t: SnmpTarget): string {
  if (t.version !== '3')
    return `${WHERE}, and credentials.community: an SNMP agent does not answer a wrong community at all.`;
  if (!t.user?.privKey) return `${WHERE} (SNMPv3).`;
  return `${WHERE} (SNMPv3), and credentials.privPassword and settings.privProtocol (${t.user.privProtocol.toUpperCase()} here): an SNMPv3 agent does not answer a request it cannot decrypt.`;
}

/** What to check when the AMM refuses (an error status or an SNMPv3 USM report), or undefined for another failure. */
function refusalCheck(t: SnmpTarget, detail: string): string | undefined {
  const u = t.user;
  if (t.version === '3' && u) {
    if (/Wrong Digest/i.test(detail))
      return `Check credentials.password (the SNMPv3 user's authentication password) and settings.authProtocol (${u.authProtocol.toUpperCase()} here), then try again.`;
    if (/Unknown User Name/i.test(detail)) return 'Check credentials.user: the AMM has no such SNMPv3 user.';
    if (/Decryption Error/i.test(detail))
      return `Check credentials.privPassword (the SNMPv3 user's privacy password) and settings.privProtocol (${u.privProtocol.toUpperCase()} here), then try again.`;
    if (/Unsupported Security Level/i.test(detail))
      return u.privKey
        ? 'The AMM does not offer privacy for this user: check its SNMPv3 user settings on the AMM, or remove credentials.privPassword.'
        : 'Set credentials.privPassword: the AMM requires privacy (authPriv) for this user.';
  }
  if (!/noAccess|authorization|notWritable|noCreation|readOnly/i.test(detail)) return undefined;
  if (t.version !== '3') return 'Check credentials.community: it needs write access on the AMM, then try again.';
  return u?.privKey
    ? "Check the SNMPv3 user's access on the AMM (power needs write access), then try again."
    : "Set credentials.privPassword if the AMM grants this SNMPv3 user access only with privacy (authPriv), and check the user's access on the AMM (power needs write access).";
}
