/**
 * An `ipmi` seed: one BMC, asked over IPMI v2 (lanplus) with the driver's ipmitool wrapper, which
 * hands the password over in the child's environment only.
 *
 * Reads `chassis power status` (power; the first call, run with -v so a failed sign-in says why),
 * `mc guid` (uuid), `fru print 0` (serial as the driver's identity reads it, model, manufacturer)
 * and `lan print` (the BMC's MAC). Only the first call's failure fails the seed: a BMC that refuses
 * one of the others (many lack a FRU or a LAN configuration) is reported without that field.
 */
import { normalizeMac, normalizeUuid } from '../drivers/machine/common/identity';
import { IpmiCommandError } from '../drivers/machine/ipmi/errors';
import {
  fruField,
  type IpmiConnection,
  ipmitool,
  parseFruSerial,
  parseGuid,
  parseLanMac,
  parsePowerStatus,
} from '../drivers/machine/ipmi/ipmitool';
import { BmcCredentialsRefusedError, BmcSessionError, BmcUnreachableError } from './errors';
import { hostPort, type Observed, type SeedAsk } from './seed';

/** ipmitool -N per try when the seed sets no timeoutSeconds; with one retry a silent address gives up in about 6 s. */
const TRY_SECONDS = 3;
const RETRIES = 1;

export async function askIpmi(ask: SeedAsk): Promise<Observed> {
  const { host, port, display: bmc } = hostPort('ipmi', ask.seed.address, 623);
  const user = await ask.secret(['user', 'username']);
  const password = await ask.secret(['password']);
  const c: IpmiConnection = {
    host,
    port,
    user,
    password,
    cipherSuite: 3,
    timeoutSeconds: ask.seed.timeoutSeconds ?? TRY_SECONDS,
    retries: RETRIES,
  };
  const who = `seed ${ask.index}`;
  const run = (command: string[], verbose = false) =>
    ipmitool('ipmitool', who, { ...c, verbose }, command, ask.signal).then((o) => o.stdout);
  const status = await run(['chassis', 'power', 'status'], true).catch((err: unknown) => {
    throw signInError(err, bmc, user, c);
  });
  // The BMC answered: a command it does not support leaves its field out.
  const optional = (command: string[]) =>
    run(command).catch((err: unknown) => {
      if (err instanceof IpmiCommandError) return '';
      throw err;
    });
  const guid = await optional(['mc', 'guid']);
  const fru = await optional(['fru', 'print', '0']);
  const lan = await optional(['lan', 'print']);

  const uuid = normalizeUuid(parseGuid(guid));
  const serial = parseFruSerial(fru);
  // The product area names the system; a blade with only a board area is named by its board.
  const model = fruField(fru, 'Product Name') ?? fruField(fru, 'Board Product');
  const manufacturer = fruField(fru, 'Product Manufacturer') ?? fruField(fru, 'Board Mfg');
  const bmcMac = realMac(parseLanMac(lan));
  const power = parsePowerStatus(status);
  return {
    machines: [
      {
        seed: ask.index,
        kind: 'ipmi',
        identifiers: {
          ...(uuid ? { uuid } : {}),
          ...(serial ? { serial } : {}),
          ...(model ? { model } : {}),
          macs: [],
          bmcAddress: bmc,
          ...(bmcMac ? { bmcMac } : {}),
        },
        facts: { ...(power ? { power } : {}), ...(manufacturer ? { manufacturer } : {}) },
        settings: { host, port },
      },
    ],
    volumes: [],
  };
}

/** A MAC that identifies something: a BMC without a LAN configuration (ipmi_sim) reports all zeros. */
function realMac(mac: string | undefined): string | undefined {
  if (!mac) return undefined;
  const m = normalizeMac(mac);
  return /^([0:]+|[f:]+)$/.test(m) || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) ? undefined : m;
}

/** What ipmitool -v said about a failed first call, as the operator would fix it. */
function signInError(err: unknown, bmc: string, user: string, c: IpmiConnection): unknown {
  if (!(err instanceof IpmiCommandError)) return err;
  const said = err.stderr;
  if (/RAKP 2 HMAC is invalid/i.test(said))
    return new BmcCredentialsRefusedError(bmc, user, 'password', { cause: err });
  if (/unauthorized name/i.test(said)) return new BmcCredentialsRefusedError(bmc, user, 'user', { cause: err });
  if (/Get Auth Capabilities|Get Channel Authentication|no answer within|No response/i.test(said)) {
    const seconds = (c.timeoutSeconds ?? TRY_SECONDS) * ((c.retries ?? RETRIES) + 1);
    return new BmcUnreachableError(bmc, seconds, { cause: err });
  }
  const detail = said
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Loading IANA/.test(l))
    .join('; ');
  return new BmcSessionError(bmc, user, detail || 'no output', { cause: err });
}
