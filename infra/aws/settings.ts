/**
 * What a deployment may choose, read from CDK context (`-c key=value` or cdk.json):
 * - `sites`: the sites that get an activity, state machines and an agent role
 *   (`main,lab` or `["main","lab"]`; default `main`).
 * - `operationLogDays`: days an operation log stays under `operations/` in the bucket (default 400).
 * - `alarmEmail`: an address subscribed to the alarm topic (default: none).
 * - `agentTrustAnchorArn`: an IAM Roles Anywhere trust anchor; when set, each site's agent role
 *   trusts certificates from it whose CN is `encompass-<site>-agent` instead of the account.
 */
import { NAME_PATTERN, NAME_RULE } from '../../functions/domain/paths';
import { stateMachineName, workflows } from '../../statemachines/names';
import { InvalidContextError } from './errors';

export interface Settings {
  sites: string[];
  operationLogDays: number;
  alarmEmail?: string;
  agentTrustAnchorArn?: string;
}

/** Step Functions caps state machine names at 80 characters. */
const MAX_STATE_MACHINE_NAME = 80;

type Context = (key: string) => unknown;

/** `lab-2` → `Lab2`: a site's name as part of a stack output id (which allows only letters and digits). */
export const outputSuffix = (site: string) =>
  site
    .split(/[^A-Za-z0-9]+/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

function parseSites(raw: unknown): string[] {
  if (raw === undefined) return ['main'];
  let list: unknown = raw;
  if (typeof raw === 'string') list = raw.trim().startsWith('[') ? JSON.parse(raw) : raw.split(',');
  if (!Array.isArray(list) || list.length === 0)
    throw new InvalidContextError('sites', raw, 'is not a list of sites; pass -c sites=main,lab or ["main","lab"]');
  const sites = list.map((s) => (typeof s === 'string' ? s.trim() : s));
  for (const site of sites) {
    if (typeof site !== 'string' || !NAME_PATTERN.test(site))
      throw new InvalidContextError('sites', raw, `has "${String(site)}", which is not a site name (${NAME_RULE})`);
    const longest = Math.max(...workflows.map((wf) => stateMachineName(site, wf).length));
    if (longest > MAX_STATE_MACHINE_NAME)
      throw new InvalidContextError(
        'sites',
        raw,
        `has "${site}", too long for Step Functions names (at most ${MAX_STATE_MACHINE_NAME} characters); pick a shorter site name`,
      );
  }
  if (new Set(sites.map((s) => outputSuffix(s as string).toLowerCase())).size !== sites.length)
    throw new InvalidContextError(
      'sites',
      raw,
      'names a site twice, or two sites that differ only in case or punctuation; list each site once',
    );
  return sites as string[];
}

function parseDays(raw: unknown): number {
  if (raw === undefined) return 400;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1)
    throw new InvalidContextError(
      'operationLogDays',
      raw,
      'is not a whole number of days; pass e.g. -c operationLogDays=400',
    );
  return days;
}

function optionalString(key: string, raw: unknown, pattern: RegExp, hint: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw)) throw new InvalidContextError(key, raw, `is not valid; ${hint}`);
  return raw;
}

export function settingsFromContext(context: Context): Settings {
  return {
    sites: parseSites(context('sites')),
    operationLogDays: parseDays(context('operationLogDays')),
    alarmEmail: optionalString('alarmEmail', context('alarmEmail'), /^[^@\s]+@[^@\s]+$/, 'pass an e-mail address'),
    agentTrustAnchorArn: optionalString(
      'agentTrustAnchorArn',
      context('agentTrustAnchorArn'),
      /^arn:aws[\w-]*:rolesanywhere:[\w-]+:\d{12}:trust-anchor\/[\w-]+$/,
      'pass the ARN of an IAM Roles Anywhere trust anchor (arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>)',
    ),
  };
}
