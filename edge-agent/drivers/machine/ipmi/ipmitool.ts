/**
 * ipmitool over IPMI v2 (lanplus). The password travels in the child's environment (`-E` reads
 * IPMI_PASSWORD), never on its command line, so no process list and no error message shows it.
 */
import { execFile } from 'node:child_process';
import { credential, SettingsReader } from '../common/settings-reader';
import type { MachineRef, PowerState } from '../interface';
import { IPMI_SETTINGS, IpmiCommandError, IpmiCredentialsMissingError, IpmitoolMissingError } from './errors';

export interface IpmiConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  /** lanplus cipher suite; 3 (AES, SHA1) is what every BMC offers, and without -C ipmitool probes for 10 s. */
  cipherSuite: number;
  /** ipmitool's -N (seconds per try) and -R (tries); unset keeps ipmitool's own (about 20 s to give up). */
  timeoutSeconds?: number;
  retries?: number;
  /** ipmitool's -v: its stderr then says why a session failed (RAKP 2 HMAC invalid, unauthorized name, no answer). */
  verbose?: boolean;
}

/**
 * The connection a machine's settings and credentials name. The user is `settings.user`, else
 * `credentials.user`: a discovered blade's record carries the discovery seed's user as a credential
 * (a reference, like its password), since the seed held it as one.
 */
export function ipmiConnection(machine: MachineRef): IpmiConnection {
  const s = new SettingsReader(machine, IPMI_SETTINGS);
  const password = credential(machine, 'password');
  if (!password) throw new IpmiCredentialsMissingError(machine.id);
  const host = s.string('host');
  const port = s.number('port', 623, 1, 65535);
  const user = s.optionalString('user') ?? credential(machine, 'user');
  if (!user) throw s.fail('settings.user', 'is missing, and so is credentials.user: set one of them');
  const timeout = s.number('timeoutSeconds', 0, 0, 300);
  const retries = s.number('retries', 0, 0, 10);
  return {
    host,
    port,
    user,
    password,
    cipherSuite: s.number('cipherSuite', 3, 0, 17),
    ...(timeout ? { timeoutSeconds: timeout } : {}),
    ...(retries ? { retries } : {}),
  };
}

/** The argument list for one command; it holds no secret. */
export function ipmitoolArgs(c: IpmiConnection, command: readonly string[]): string[] {
  const args = ['-I', 'lanplus', '-C', String(c.cipherSuite), '-H', c.host, '-p', String(c.port), '-U', c.user, '-E'];
  if (c.timeoutSeconds) args.push('-N', String(c.timeoutSeconds));
  if (c.retries) args.push('-R', String(c.retries));
  if (c.verbose) args.push('-v');
  return [...args, ...command];
}

export interface IpmiOutput {
  stdout: string;
  stderr: string;
}

/** Runs `ipmitool … command`; a non-zero exit becomes IpmiCommandError, an abort ends the child (`signal`). */
export function ipmitool(
  binary: string,
  machineId: string,
  c: IpmiConnection,
  command: readonly string[],
  signal?: AbortSignal,
): Promise<IpmiOutput> {
  const args = ipmitoolArgs(c, command);
  // Enough for ipmitool's own retries to run out, so its message (not ours) says what went wrong.
  const timeout = ((c.timeoutSeconds ?? 2) * ((c.retries ?? 4) + 1) + 30) * 1000;
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        env: { ...process.env, IPMI_PASSWORD: c.password },
        timeout,
        maxBuffer: 4 << 20,
        ...(signal ? { signal } : {}),
      },
      (err, stdout, stderr) => {
        const out = { stdout: redact(String(stdout), c.password), stderr: redact(String(stderr), c.password).trim() };
        if (!err) return resolve(out);
        if (signal?.aborted) return reject(signal.reason);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new IpmitoolMissingError({ cause: err }));
        const detail =
          out.stderr || (err.killed ? `no answer within ${timeout / 1000} s` : `exit code ${String(err.code)}`);
        reject(
          new IpmiCommandError(machineId, command.join(' '), `${c.host}:${c.port}`, detail, {
            cause: new Error(err.message.split('\n')[0]),
          }),
        );
      },
    );
  });
}

/** Belt and braces: a BMC or ipmitool that echoes the password still never gets it into a log. */
function redact(text: string, secret: string): string {
  return secret.length >= 3 ? text.split(secret).join('***') : text;
}

export function parsePowerStatus(stdout: string): PowerState | undefined {
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  return m ? (m[1]!.toLowerCase() as PowerState) : undefined;
}

/** `mc guid` prints `System GUID  : efcdab89-…`, already decoded from the IPMI byte order. */
export function parseGuid(stdout: string): string | undefined {
  return /System GUID\s*:\s*([0-9a-f-]{32,36})/i.exec(stdout)?.[1];
}

/** One field of `fru print` (`Board Serial`, `Product Name`, …), trimmed; undefined when absent or empty. */
export function fruField(stdout: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}\\s*:\\s*(.+?)\\s*$`, 'm').exec(stdout)?.[1];
}

/** `fru print 0`: the board serial, or the product serial when the board area has none. */
export function parseFruSerial(stdout: string): string | undefined {
  return fruField(stdout, 'Board Serial') ?? fruField(stdout, 'Product Serial');
}

/** `lan print`: the BMC's own MAC, as ipmitool writes it. */
export function parseLanMac(stdout: string): string | undefined {
  return /^MAC Address\s*:\s*(\S+)/m.exec(stdout)?.[1];
}
