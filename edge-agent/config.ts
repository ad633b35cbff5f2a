/** The agent's configuration: a JSON file (`--config`), with environment overrides. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_SECONDS } from '../statemachines/constants';
import { type MachineKind, machineKinds, type StorageKind, storageKinds } from '../statemachines/kinds';
import { ConfigError } from './errors';

export interface AgentConfig {
  site: string;
  /**
   * The host it runs on (1-18 lower-case letters, digits, "-"); default: this machine's host name, so
   * cut. Work on the host's local repositories and its machines comes to this agent only.
   */
  host: string;
  /**
   * The shared repositories (names or ids) it reaches; absent: every shared repository of its site.
   * A task on another one is handed back for another agent of the site.
   */
  repositories?: { shared?: string[] };
  /**
   * Whether it also takes the site's shared work (its site's activity) besides its host's; default
   * true. false: an agent that serves only its own host's repositories and machines.
   */
  sharedWork?: boolean;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8787 */
  api: string;
  /** An `agent` token for this site. */
  token: string;
  region: string;
  accountId: string;
  /** Local stack only; in AWS the SDK's default endpoint is used. */
  stepFunctionsEndpoint?: string;
  /** Local stack only: the one key pair its Step Functions endpoint accepts; in AWS the default chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * The secret store that machine credentials are resolved from. Locally: the stack's endpoint and the
   * key pair it accepts; in AWS leave it out (Secrets Manager, the SDK's default credential chain).
   * `prefix`: the names' prefix, `encompass/` unless the deployment set another.
   */
  secrets?: { endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string }; prefix?: string };
  /** Where the agent keeps its journal, machine state and the repositories it has seen. */
  stateDir: string;
  /** Storage-heavy tasks (import, clone, capture, customize…) run at once per repository; more wait their turn. */
  concurrency: number;
  /** Tasks the agent holds at most (running or waiting); beyond that it stops taking new ones. */
  maxTasks: number;
  /** Driver kinds to enable (default: all) and their settings. */
  drivers?: { storage?: StorageKind[]; machines?: MachineKind[]; qemuBinary?: string };
  /** Seconds between heartbeats of a running task (under the workflows' HEARTBEAT_SECONDS). */
  heartbeatSeconds: number;
  /**
   * Commands a service update may run by name to apply an update (a request names a hook, never a
   * command). `on: "image"` runs against the clone's image while no machine uses it
   * (ENCOMPASS_IMAGE is its path); `on: "machine"` against the running machine (ENCOMPASS_MACHINE…).
   */
  hooks?: Record<string, HookConfig>;
}

export interface HookConfig {
  /** The program and its arguments, run without a shell. */
  command: string[];
  on: 'image' | 'machine';
  /** Default 600. */
  timeoutSeconds?: number;
  /** What it does, shown to operators. */
  doc?: string;
}

const HOOK_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const HOST = /^[a-z0-9][a-z0-9-]{0,17}$/;

/** A machine's host name as a host of the site: its first label, lower case, other characters as "-", at most 18. */
export function defaultHost(name: string): string {
  const cut = (name.split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 18);
  return cut || 'agent';
}

function checkHooks(hooks: unknown): void {
  if (hooks === undefined) return;
  const bad = (why: string) => {
    throw new ConfigError(`agent config: ${why}; see "hooks" in the agent's configuration documentation`);
  };
  if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks))
    bad('hooks must be an object of named hooks');
  for (const [name, h] of Object.entries(hooks as Record<string, Partial<HookConfig>>)) {
    if (!HOOK_NAME.test(name))
      bad(`hook name "${name}" must be lower case letters, digits and -, starting with a letter`);
    if (!Array.isArray(h?.command) || !h.command.length || h.command.some((a) => typeof a !== 'string' || !a))
      bad(`hooks.${name}.command must be a non-empty array of strings (the program, then its arguments)`);
    if (h.on !== 'image' && h.on !== 'machine') bad(`hooks.${name}.on must be "image" or "machine"`);
    const t = h.timeoutSeconds;
    if (t !== undefined && !(Number.isInteger(t) && t > 0 && t <= 24 * 3600))
      bad(`hooks.${name}.timeoutSeconds must be a whole number of seconds from 1 to 86400`);
  }
}

/** `drivers.storage` and `drivers.machines` name known kinds: a misspelt one would leave its machines without a driver. */
function checkDrivers(drivers: unknown): void {
  if (drivers === undefined) return;
  const bad = (why: string) => {
    throw new ConfigError(`agent config: ${why}; leave it out to enable every kind`);
  };
  if (typeof drivers !== 'object' || drivers === null || Array.isArray(drivers))
    bad('drivers must be an object: {"storage": [...], "machines": [...], "qemuBinary": "..."}');
  const d = drivers as Record<string, unknown>;
  for (const [key, known] of [
    ['storage', storageKinds],
    ['machines', machineKinds],
  ] as const) {
    const v = d[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) bad(`drivers.${key} must be an array of kinds (${known.join(', ')})`);
    const unknown = (v as unknown[]).filter((k) => !(known as readonly unknown[]).includes(k));
    if (unknown.length)
      bad(
        `drivers.${key} names ${unknown.map((k) => JSON.stringify(k)).join(', ')}, not a kind (the kinds: ${known.join(', ')})`,
      );
  }
  if (d['qemuBinary'] !== undefined && (typeof d['qemuBinary'] !== 'string' || !d['qemuBinary']))
    bad('drivers.qemuBinary must be the path of a qemu-system binary');
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let fromFile: Partial<AgentConfig> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Partial<AgentConfig>;
    } catch (e) {
      throw new ConfigError(
        `cannot read agent config ${file}: ${(e as Error).message}; pass a JSON file with site, api, token, stateDir`,
      );
    }
  }
  const c = {
    region: 'us-east-1',
    accountId: '000000000000',
    concurrency: 4,
    maxTasks: 64,
    heartbeatSeconds: HEARTBEAT_INTERVAL_SECONDS,
    ...fromFile,
    ...(env.ENCOMPASS_SITE ? { site: env.ENCOMPASS_SITE } : {}),
    ...(env.ENCOMPASS_HOST ? { host: env.ENCOMPASS_HOST } : {}),
    ...(env.ENCOMPASS_API ? { api: env.ENCOMPASS_API } : {}),
    ...(env.ENCOMPASS_AGENT_TOKEN ? { token: env.ENCOMPASS_AGENT_TOKEN } : {}),
    ...(env.ENCOMPASS_AGENT_STATE ? { stateDir: env.ENCOMPASS_AGENT_STATE } : {}),
    ...(env.SFN_ENDPOINT ? { stepFunctionsEndpoint: env.SFN_ENDPOINT } : {}),
    ...(env.SECRETS_ENDPOINT ? { secrets: { ...fromFile.secrets, endpoint: env.SECRETS_ENDPOINT } } : {}),
  } as Partial<AgentConfig>;
  c.host ??= defaultHost(hostname());
  if (!HOST.test(c.host))
    throw new ConfigError(
      `host "${c.host}" must be 1-18 lower-case letters, digits or "-", starting with a letter or digit; set "host" in the agent's configuration`,
    );
  const missing = (['site', 'api', 'token', 'stateDir'] as const).filter((k) => !c[k]);
  if (missing.length)
    throw new ConfigError(`agent config lacks ${missing.join(', ')}; set them in the config file or the environment`);
  checkHooks(c.hooks);
  checkDrivers(c.drivers);
  const beat = c.heartbeatSeconds!;
  if (!(beat > 0 && beat < HEARTBEAT_SECONDS))
    throw new ConfigError(
      `heartbeatSeconds is ${beat}; it must be more than 0 and less than the workflows' ${HEARTBEAT_SECONDS} s heartbeat timeout (default ${HEARTBEAT_INTERVAL_SECONDS})`,
    );
  return c as AgentConfig;
}
