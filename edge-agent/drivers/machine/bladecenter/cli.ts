/**
 * The AMM's command line over SSH (npm `ssh2`): `power -on|-off|-softoff|-state -T system:blade[N]`
 * and `info -T system:blade[N]`. The password goes to the SSH session only, and only once the AMM's
 * host key matches settings.sshHostKey (the `SHA256:…` fingerprint `ssh-keygen -l` prints).
 */
import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef } from '../interface';
import {
  AmmHostKeyError,
  AmmRefusedError,
  AmmRequestError,
  AmmUnreachableError,
  BLADECENTER_SETTINGS,
  BladeCenterCredentialsMissingError,
} from './errors';

export interface CliTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  hostKey: string;
  timeoutMs: number;
}

export function cliTarget(machine: MachineRef): CliTarget {
  const s = new SettingsReader(machine, BLADECENTER_SETTINGS);
  const host = s.string('amm');
  const port = s.number('sshPort', 22, 1, 65535);
  const hostKey = s.optionalString('sshHostKey');
  if (!hostKey || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(hostKey))
    throw s.fail(
      'settings.sshHostKey',
      "must be the AMM's SSH host key fingerprint as `ssh-keygen -lf` prints it (SHA256:…), so the password goes to the AMM only",
    );
  const user = credential(machine, 'user');
  const password = credential(machine, 'password');
  if (!user || !password)
    throw new BladeCenterCredentialsMissingError(machine.id, 'credentials.user and credentials.password (AMM CLI)');
  return {
    host,
    port,
    user,
    password,
    hostKey: hostKey.replace(/=$/, ''),
    timeoutMs: s.seconds('timeoutSeconds', 10, 120),
  };
}

/** The fingerprint of a raw SSH public key blob, as OpenSSH writes it. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Runs one AMM CLI command and resolves to what it printed; a refused sign-in or host key is a typed error. */
export function ammCommand(machineId: string, t: CliTarget, command: string): Promise<string> {
  const amm = `${t.host}:${t.port}`;
  return new Promise((resolve, reject) => {
    const conn = new Client();
    let offered = '';
    let settled = false;
    const done = (err: Error | undefined, out = '') => {
      if (settled) return;
      settled = true;
      conn.end();
      if (err) reject(err);
      else resolve(out);
    };
    conn.on('ready', () => {
      conn.exec(command, (err, stream) => {
        if (err) return done(new AmmRequestError(machineId, amm, `run "${command}"`, err.message, { cause: err }));
        let out = '';
        stream.on('data', (d: Buffer) => {
          out += d.toString('utf8');
        });
        stream.stderr.on('data', (d: Buffer) => {
          out += d.toString('utf8');
        });
        stream.on('close', () => done(undefined, out));
      });
    });
    conn.on('error', (err: Error & { level?: string }) => {
      if (offered && offered !== t.hostKey) return done(new AmmHostKeyError(machineId, amm, t.hostKey, offered));
      if (err.level === 'client-authentication')
        return done(
          new AmmRefusedError(
            machineId,
            amm,
            `the CLI refused user ${t.user}`,
            'Check credentials.user and credentials.password of the AMM CLI user and try again.',
            { cause: err },
          ),
        );
      if (err.level === 'client-timeout' || /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|Timed out/i.test(err.message))
        return done(
          new AmmUnreachableError(
            machineId,
            amm,
            t.timeoutMs / 1000,
            'Check settings.amm and settings.sshPort, that SSH is enabled on the AMM and that TCP reaches it.',
            { cause: err },
          ),
        );
      done(new AmmRequestError(machineId, amm, `run "${command}"`, err.message, { cause: err }));
    });
    conn.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      password: t.password,
      readyTimeout: t.timeoutMs,
      hostVerifier: (key: Buffer) => {
        offered = sshFingerprint(key);
        return offered === t.hostKey;
      },
    });
  });
}

/** `power -state` prints `On` or `Off`. */
export function parseCliPower(out: string): 'on' | 'off' | undefined {
  const m = /^\s*(on|off)\s*$/im.exec(out);
  return m ? (m[1]!.toLowerCase() as 'on' | 'off') : undefined;
}

/** A power command's answer: `OK`, else what the AMM said went wrong. */
export function cliOk(out: string): boolean {
  return /^\s*OK\s*$/m.test(out);
}

/** One `Name: value` line of `info`, e.g. `Mach serial number`, `UUID`, `MAC Address 1`. */
export function cliField(out: string, name: string): string | undefined {
  const m = new RegExp(`^\\s*${name}\\s*:\\s*(.+?)\\s*$`, 'im').exec(out);
  return m?.[1];
}
